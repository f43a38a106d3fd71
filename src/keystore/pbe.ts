/**
 * Password-based decryption as PKCS#12 stores use it (RFC 7292, RFC 8018): PBES2 (PBKDF2 + AES or
 * 3DES in CBC mode, what Java 17's keytool and OpenSSL 3 write) and the legacy PKCS#12 PBE schemes
 * (the RFC 7292 appendix B key derivation with SHA-1, then 3DES or RC2: what Java wrote before 12
 * and still writes with keystore.pkcs12.legacy). RC4 schemes are refused. Also the PKCS#12 MAC.
 */
import { createDecipheriv, createHash, createHmac, getCiphers, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { algorithm, children, octets, smallInt, TAG, type Der } from './der';
import { KeyStoreError } from './errors';
import { rc2CbcDecrypt } from './rc2';

/** Java's cap on PBE and MAC iterations (PKCS12KeyStore.MAX_ITERATION_COUNT): a hostile store cannot stall the start. */
export const MAX_ITERATIONS = 5_000_000;

/** Hash OIDs (MAC digests, PBKDF2 PRFs) -> node:crypto names, with the hash's block size in bytes. */
const DIGESTS: Readonly<Record<string, { hash: string; block: number }>> = {
  '1.3.14.3.2.26': { hash: 'sha1', block: 64 },
  '2.16.840.1.101.3.4.2.4': { hash: 'sha224', block: 64 },
  '2.16.840.1.101.3.4.2.1': { hash: 'sha256', block: 64 },
  '2.16.840.1.101.3.4.2.2': { hash: 'sha384', block: 128 },
  '2.16.840.1.101.3.4.2.3': { hash: 'sha512', block: 128 },
};
const PRFS: Readonly<Record<string, string>> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};
/** PBES2 encryption schemes: node cipher name and key length. */
const PBES2_CIPHERS: Readonly<Record<string, { cipher: string; keyBytes: number }>> = {
  '2.16.840.1.101.3.4.1.2': { cipher: 'aes-128-cbc', keyBytes: 16 },
  '2.16.840.1.101.3.4.1.22': { cipher: 'aes-192-cbc', keyBytes: 24 },
  '2.16.840.1.101.3.4.1.42': { cipher: 'aes-256-cbc', keyBytes: 32 },
  '1.2.840.113549.3.7': { cipher: 'des-ede3-cbc', keyBytes: 24 },
};
/** RFC 7292 appendix C PBE schemes (all with SHA-1). */
const PKCS12_PBE: Readonly<Record<string, { name: string; keyBytes: number; cipher: 'des-ede3-cbc' | 'des-ede-cbc' | 'rc2'; rc2Bits?: number } | { name: string; refused: string }>> = {
  '1.2.840.113549.1.12.1.1': { name: 'pbeWithSHAAnd128BitRC4', refused: 'RC4 is broken' },
  '1.2.840.113549.1.12.1.2': { name: 'pbeWithSHAAnd40BitRC4', refused: 'RC4 is broken' },
  '1.2.840.113549.1.12.1.3': { name: 'pbeWithSHAAnd3-KeyTripleDES-CBC', keyBytes: 24, cipher: 'des-ede3-cbc' },
  '1.2.840.113549.1.12.1.4': { name: 'pbeWithSHAAnd2-KeyTripleDES-CBC', keyBytes: 16, cipher: 'des-ede-cbc' },
  '1.2.840.113549.1.12.1.5': { name: 'pbeWithSHAAnd128BitRC2-CBC', keyBytes: 16, cipher: 'rc2', rc2Bits: 128 },
  '1.2.840.113549.1.12.1.6': { name: 'pbeWithSHAAnd40BitRC2-CBC', keyBytes: 5, cipher: 'rc2', rc2Bits: 40 },
};
const PBES2 = '1.2.840.113549.1.5.13';
const PBKDF2 = '1.2.840.113549.1.5.12';
const PBMAC1 = '1.2.840.113549.1.5.14';

const CONVERT = 'convert the store with `keytool -importkeystore -srckeystore OLD -destkeystore NEW.p12 -deststoretype PKCS12` (Java 17 writes PBES2 with AES)';

function iterations(d: Der | undefined, what: string): number {
  const n = smallInt(d, what);
  if (n < 1 || n > MAX_ITERATIONS) throw new KeyStoreError(`${what} ${n} is outside 1..${MAX_ITERATIONS}`);
  return n;
}

/** The password as a BMPString with its two-byte terminator (RFC 7292 appendix B.1). */
export function bmpPassword(password: string): Buffer {
  const out = Buffer.alloc(password.length * 2 + 2);
  for (let i = 0; i < password.length; i++) out.writeUInt16BE(password.charCodeAt(i), i * 2);
  return out;
}

/** RFC 7292 appendix B.2: `n` bytes of key material for purpose `id` (1 key, 2 IV, 3 MAC key). */
export function pkcs12Kdf(hash: string, block: number, password: Buffer, salt: Buffer, id: 1 | 2 | 3, rounds: number, n: number): Buffer {
  const fill = (src: Buffer): Buffer => {
    if (src.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(block * Math.ceil(src.length / block));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const D = Buffer.alloc(block, id);
  const I = Buffer.concat([fill(salt), fill(password)]);
  const parts: Buffer[] = [];
  for (let got = 0; got < n; ) {
    let A = createHash(hash).update(D).update(I).digest();
    for (let r = 1; r < rounds; r++) A = createHash(hash).update(A).digest();
    parts.push(A);
    got += A.length;
    const B = Buffer.alloc(block);
    for (let i = 0; i < block; i++) B[i] = A[i % A.length]!;
    // I_j = (I_j + B + 1) mod 2^(8*block), each block a big-endian integer.
    for (let j = 0; j < I.length; j += block) {
      let carry = 1;
      for (let k = block - 1; k >= 0; k--) {
        const sum = I[j + k]! + B[k]! + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(parts).subarray(0, n);
}

function cbc(cipher: string, key: Buffer, iv: Buffer, data: Buffer, what: string): Buffer {
  if (!getCiphers().includes(cipher)) throw new KeyStoreError(`${what}: ${cipher} is not available in this Node's OpenSSL; ${CONVERT}`);
  try {
    const d = createDecipheriv(cipher, key, iv);
    return Buffer.concat([d.update(data), d.final()]);
  } catch {
    // A wrong key shows as bad padding (or, once in 256 times, as garbage the caller rejects).
    throw new KeyStoreError('decryption failed: wrong password');
  }
}

/**
 * Decrypts `data` protected by the AlgorithmIdentifier `alg` with `password` (PBES2 takes the
 * password's UTF-8 bytes, the PKCS#12 schemes its BMPString).
 */
export function pbeDecrypt(alg: Der, password: string, data: Buffer): Buffer {
  const { oid, params } = algorithm(alg, 'encryption algorithm');
  if (oid === PBES2) return pbes2(params, password, data);
  const scheme = PKCS12_PBE[oid];
  if (!scheme) throw new KeyStoreError(`unsupported encryption algorithm ${oid}; ${CONVERT}`);
  if ('refused' in scheme) throw new KeyStoreError(`${scheme.name} is not supported (${scheme.refused}); ${CONVERT}`);
  const [salt, count] = children(params ?? { tag: 0, bytes: Buffer.alloc(0), value: Buffer.alloc(0) }, TAG.sequence, `${scheme.name} parameters`);
  const s = octets(salt, 'PBE salt');
  const rounds = iterations(count, 'PBE iteration count');
  const pw = bmpPassword(password);
  const key = pkcs12Kdf('sha1', 64, pw, s, 1, rounds, scheme.keyBytes);
  const iv = pkcs12Kdf('sha1', 64, pw, s, 2, rounds, 8);
  if (scheme.cipher === 'rc2') return rc2CbcDecrypt(key, scheme.rc2Bits!, iv, data);
  return cbc(scheme.cipher, key, iv, data, scheme.name);
}

function pbes2(params: Der | undefined, password: string, data: Buffer): Buffer {
  const [kdfAlg, encAlg] = children(params ?? { tag: 0, bytes: Buffer.alloc(0), value: Buffer.alloc(0) }, TAG.sequence, 'PBES2 parameters');
  const kdf = algorithm(kdfAlg, 'PBES2 key derivation');
  if (kdf.oid !== PBKDF2) throw new KeyStoreError(`PBES2 key derivation ${kdf.oid} is not supported (only PBKDF2); ${CONVERT}`);
  const [salt, count, ...rest] = children(kdf.params ?? { tag: 0, bytes: Buffer.alloc(0), value: Buffer.alloc(0) }, TAG.sequence, 'PBKDF2 parameters');
  const keyLength = rest[0]?.tag === TAG.integer ? smallInt(rest[0], 'PBKDF2 key length') : undefined;
  const prfAlg = rest.find((d) => d.tag === TAG.sequence);
  const prfOid = prfAlg ? algorithm(prfAlg, 'PBKDF2 PRF').oid : '1.2.840.113549.2.7';
  const prf = PRFS[prfOid];
  if (!prf) throw new KeyStoreError(`PBKDF2 PRF ${prfOid} is not supported; ${CONVERT}`);
  const enc = algorithm(encAlg, 'PBES2 encryption scheme');
  const cipher = PBES2_CIPHERS[enc.oid];
  if (!cipher) throw new KeyStoreError(`PBES2 encryption scheme ${enc.oid} is not supported (AES-CBC or 3DES-CBC); ${CONVERT}`);
  if (keyLength !== undefined && keyLength !== cipher.keyBytes) throw new KeyStoreError(`PBKDF2 key length ${keyLength} does not fit ${cipher.cipher}`);
  const iv = octets(enc.params, 'PBES2 IV');
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), octets(salt, 'PBKDF2 salt'), iterations(count, 'PBKDF2 iteration count'), cipher.keyBytes, prf);
  return cbc(cipher.cipher, key, iv, data, cipher.cipher);
}

/**
 * Checks a PFX's MacData over the authenticated safe's bytes (RFC 7292 section 4, the KDF of
 * appendix B with the MAC's own hash). Throws on a wrong password (or a tampered file).
 */
export function verifyMac(macData: Der, password: string, content: Buffer): void {
  const [digestInfo, salt, count] = children(macData, TAG.sequence, 'MacData');
  const [digestAlg, digest] = children(digestInfo!, TAG.sequence, 'MAC DigestInfo');
  const { oid } = algorithm(digestAlg, 'MAC digest algorithm');
  if (oid === PBMAC1) throw new KeyStoreError(`PBMAC1 integrity is not supported; ${CONVERT}`);
  const h = DIGESTS[oid];
  if (!h) throw new KeyStoreError(`MAC digest ${oid} is not supported; ${CONVERT}`);
  const expected = octets(digest, 'MAC value');
  const rounds = count ? iterations(count, 'MAC iteration count') : 1;
  const s = octets(salt, 'MAC salt');
  // An empty password is tried with and without the terminator, as Java does.
  const candidates = password === '' ? [bmpPassword(''), Buffer.alloc(0)] : [bmpPassword(password)];
  for (const pw of candidates) {
    const size = createHash(h.hash).digest().length;
    const key = pkcs12Kdf(h.hash, h.block, pw, s, 3, rounds, size);
    const mac = createHmac(h.hash, key).update(content).digest();
    if (mac.length === expected.length && timingSafeEqual(mac, expected)) return;
  }
  throw new KeyStoreError('wrong password (the store\'s integrity check failed)');
}
