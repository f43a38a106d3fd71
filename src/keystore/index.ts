/**
 * Java key and trust stores (PKCS#12 and JKS) read natively, so a ZooKeeper configuration naming
 * keytool's files works unchanged: integrity checked with the password, keys decrypted, then
 * turned into what Node's TLS takes (PEM). Pure: bytes and a password in, PEM or a
 * KeyStoreError out. Like Java's KeyStore.getInstance("JKS"/"PKCS12") since Java 9 (the
 * keystore.type.compat default), either type reads either format, told apart by its first bytes.
 */
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { KeyStoreError } from './errors';
import { JCEKS_MAGIC, JKS_MAGIC, readJks } from './jks';
import { readPkcs12 } from './pkcs12';
import type { StoreContents, StoreKey } from './types';

export { KeyStoreError } from './errors';
export type { StoreContents, StoreKey, StoreCertificate } from './types';

/** Reads a PKCS#12 or JKS store (by its content). */
export function readKeyStore(file: Buffer, password: string): StoreContents {
  if (file.length >= 4) {
    const magic = file.readUInt32BE(0);
    if (magic === JKS_MAGIC || magic === JCEKS_MAGIC) return readJks(file, password);
  }
  // A DER SEQUENCE with a long-form length: what every PKCS#12 file starts with.
  if (file[0] === 0x30) return readPkcs12(file, password);
  if (file.subarray(0, 64).toString('latin1').includes('-----BEGIN')) throw new KeyStoreError('this is a PEM file: set the store type to PEM');
  throw new KeyStoreError('neither a PKCS#12 nor a JKS store');
}

const pem = (der: Buffer, label: string): string => `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;

function x509(der: Buffer): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (err) {
    throw new KeyStoreError(`bad certificate in the store: ${(err as Error).message}`);
  }
}

/** leaf, then each issuer found among `pool` (as Java builds a PKCS#12 key entry's chain). */
function chainFrom(leaf: X509Certificate, pool: readonly X509Certificate[]): X509Certificate[] {
  const chain = [leaf];
  for (let cur = leaf; chain.length <= pool.length; ) {
    if (cur.checkIssued(cur)) break; // self-signed: the root
    const issuer = pool.find((c) => !chain.includes(c) && cur.checkIssued(c) && cur.verify(c.publicKey));
    if (!issuer) break;
    chain.push(issuer);
    cur = issuer;
  }
  return chain;
}

function privateKey(entry: StoreKey): KeyObject {
  try {
    return createPrivateKey({ key: entry.pkcs8, format: 'der', type: 'pkcs8' });
  } catch (err) {
    throw new KeyStoreError(`cannot read the private key${entry.alias ? ` "${entry.alias}"` : ''}: ${(err as Error).message}`);
  }
}

/** A key entry's chain, leaf first: stored with it (JKS), or the certificate holding its public key and that one's issuers (PKCS#12). */
function chainOf(entry: StoreKey, key: KeyObject, pool: readonly X509Certificate[]): X509Certificate[] {
  if (entry.chain.length > 0) return entry.chain.map(x509);
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const leaf = pool.find((c) => c.publicKey.export({ type: 'spki', format: 'der' }).equals(spki));
  return leaf ? chainFrom(leaf, pool) : [];
}

/**
 * The one private key of a key store and its certificate chain, as PEM. Java's key manager would
 * pick among several keys per handshake; zabkeeper refuses a store with more than one.
 */
export function keyMaterial(store: StoreContents): { key: string; cert: string } {
  if (store.keys.length === 0) throw new KeyStoreError('holds no private key (a key store needs the key and its certificate)');
  if (store.keys.length > 1) throw new KeyStoreError(`holds ${store.keys.length} private keys (${store.keys.map((k) => k.alias ?? '?').join(', ')}); zabkeeper needs a key store with exactly one`);
  const entry = store.keys[0]!;
  const key = privateKey(entry);
  const chain = chainOf(entry, key, store.certificates.map((c) => x509(c.der)));
  if (chain.length === 0) throw new KeyStoreError('holds no certificate for its private key');
  return { key: key.export({ type: 'pkcs8', format: 'pem' }).toString(), cert: chain.map((c) => pem(c.raw, 'CERTIFICATE')).join('') };
}

/**
 * The certificates a trust store makes trusted, as Java's TrustManagerFactory takes them from a
 * KeyStore: its trusted-certificate entries and the first certificate of each key entry.
 */
export function trustAnchors(store: StoreContents): string[] {
  const pool = store.certificates.map((c) => x509(c.der));
  const anchors = pool.filter((_c, i) => store.certificates[i]!.trusted);
  for (const entry of store.keys) {
    const leaf = chainOf(entry, privateKey(entry), pool)[0];
    if (leaf) anchors.push(leaf);
  }
  if (anchors.length === 0) {
    throw new KeyStoreError('holds no trusted certificate: Java trusts only certificates imported with `keytool -importcert` (PKCS#12 files written by `openssl pkcs12 -nokeys` hold none it trusts); import the CA with keytool, or use a PEM trust store');
  }
  return [...new Set(anchors)].map((c) => pem(c.raw, 'CERTIFICATE'));
}
