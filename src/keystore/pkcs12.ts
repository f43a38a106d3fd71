/**
 * PKCS#12 (RFC 7292) key and trust stores as Java's keytool and OpenSSL write them: password
 * integrity (MacData) verified first, then the safe contents, encrypted (PBES2 or the legacy PBE
 * schemes, pbe.ts) or not. Private keys come out as PKCS#8, certificates as DER; a certificate bag
 * with Java's "trusted key usage" attribute is a trusted-certificate entry (keytool -importcert).
 */
import { children, expectTag, octets, oid, parseDer, smallInt, TAG, type Der } from './der';
import { KeyStoreError } from './errors';
import { pbeDecrypt, verifyMac } from './pbe';
import type { StoreContents } from './types';

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  /** Oracle's attribute on certificates imported as trusted (PKCS12KeyStore's TrustedKeyUsage). */
  javaTrusted: '2.16.840.1.113894.746875.1.1',
} as const;

interface Bag {
  type: string;
  value: Der;
  attrs: Map<string, Der[]>;
}

/** The [0] EXPLICIT content of a ContentInfo or SafeBag. */
function explicit0(d: Der | undefined, what: string): Der {
  const inner = children(expectTag(d, TAG.context0, what), TAG.context0, what);
  if (inner.length !== 1) throw new KeyStoreError(`malformed ${what}`);
  return inner[0]!;
}

function attributes(d: Der | undefined): Map<string, Der[]> {
  const out = new Map<string, Der[]>();
  if (!d) return out;
  for (const attr of children(d, TAG.set, 'bag attributes')) {
    const [id, values] = children(attr, TAG.sequence, 'bag attribute');
    out.set(oid(id, 'attribute'), children(values!, TAG.set, 'attribute values'));
  }
  return out;
}

/** SafeContents -> bags, descending into nested safeContentsBags. */
function bagsOf(safeContents: Buffer, depth = 0): Bag[] {
  if (depth > 4) throw new KeyStoreError('safe contents nested too deeply');
  const out: Bag[] = [];
  for (const bag of children(parseDer(safeContents), TAG.sequence, 'SafeContents')) {
    const [id, value, attrs] = children(bag, TAG.sequence, 'SafeBag');
    const type = oid(id, 'bag type');
    const v = explicit0(value, 'bag value');
    if (type === OID.safeContentsBag) out.push(...bagsOf(v.bytes, depth + 1));
    else out.push({ type, value: v, attrs: attributes(attrs) });
  }
  return out;
}

/** The encryptedContent of an EncryptedContentInfo: [0] IMPLICIT OCTET STRING, primitive or in pieces. */
function encryptedContent(d: Der | undefined): Buffer {
  if (d?.tag === TAG.context0Primitive) return d.value;
  if (d?.tag === TAG.context0) return Buffer.concat(children(d, TAG.context0, 'encrypted content').map((p) => octets(p, 'encrypted content')));
  throw new KeyStoreError('encrypted data without content');
}

/** One ContentInfo of the authenticated safe -> its SafeContents bytes. */
function safeContents(ci: Der, password: string): Buffer {
  const [type, content] = children(ci, TAG.sequence, 'ContentInfo');
  const t = oid(type, 'content type');
  if (t === OID.data) return octets(explicit0(content, 'data content'), 'data content');
  if (t === OID.encryptedData) {
    const [version, eci] = children(explicit0(content, 'encrypted data'), TAG.sequence, 'EncryptedData');
    smallInt(version, 'EncryptedData version');
    const [, alg, enc] = children(eci!, TAG.sequence, 'EncryptedContentInfo');
    return pbeDecrypt(alg!, password, encryptedContent(enc));
  }
  if (t === OID.envelopedData || t === OID.signedData) throw new KeyStoreError('public-key protected PKCS#12 stores are not supported (only password-protected ones)');
  throw new KeyStoreError(`unknown content type ${t} in the store`);
}

function shroudedKey(bag: Bag, password: string): Buffer {
  const [alg, data] = children(bag.value, TAG.sequence, 'EncryptedPrivateKeyInfo');
  const plain = pbeDecrypt(alg!, password, octets(data, 'encrypted key'));
  // The decryption "succeeds" with a wrong key once in 256 times; the structure then is garbage.
  try {
    children(parseDer(plain), TAG.sequence, 'PrivateKeyInfo');
  } catch {
    throw new KeyStoreError('decryption failed: wrong password');
  }
  return plain;
}

function certificate(bag: Bag): Buffer {
  const [type, value] = children(bag.value, TAG.sequence, 'CertBag');
  if (oid(type, 'certificate type') !== OID.x509Certificate) throw new KeyStoreError('only X.509 certificates are supported in certificate bags');
  return octets(explicit0(value, 'certificate'), 'certificate');
}

const friendly = (bag: Bag): string | undefined => {
  const v = bag.attrs.get(OID.friendlyName)?.[0];
  return v?.tag === TAG.bmpString ? Buffer.from(v.value).swap16().toString('utf16le') : undefined;
};

/**
 * Reads a PKCS#12 file. The MAC is checked with the password before anything is decrypted (so a
 * wrong password says so); a store without a MAC (no password at all) is read as is, as Java does.
 */
export function readPkcs12(file: Buffer, password: string): StoreContents {
  const [version, authSafe, macData] = children(parseDer(file), TAG.sequence, 'PKCS#12 file');
  if (smallInt(version, 'PFX version') !== 3) throw new KeyStoreError('not a version 3 PKCS#12 file');
  const [type, content] = children(authSafe!, TAG.sequence, 'authenticated safe');
  if (oid(type, 'content type') !== OID.data) throw new KeyStoreError('public-key integrity mode is not supported (only password integrity)');
  const safe = octets(explicit0(content, 'authenticated safe'), 'authenticated safe');
  if (macData) verifyMac(macData, password, safe);
  const bags = children(parseDer(safe), TAG.sequence, 'AuthenticatedSafe').flatMap((ci) => bagsOf(safeContents(ci, password)));
  const out: StoreContents = { keys: [], certificates: [] };
  for (const bag of bags) {
    if (bag.type === OID.shroudedKeyBag) out.keys.push({ alias: friendly(bag), pkcs8: shroudedKey(bag, password), chain: [] });
    else if (bag.type === OID.keyBag) out.keys.push({ alias: friendly(bag), pkcs8: bag.value.bytes, chain: [] });
    else if (bag.type === OID.certBag) out.certificates.push({ alias: friendly(bag), der: certificate(bag), trusted: bag.attrs.has(OID.javaTrusted) });
    // CRL and secret bags carry nothing TLS uses.
  }
  return out;
}

