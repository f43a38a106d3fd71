/**
 * Java's JKS key store format (sun.security.provider.JavaKeyStore), which is public:
 *
 *   magic 0xFEEDFEED | version (1 or 2) | count | entries | SHA-1 digest
 *   entry 1 (private key): alias | date | protected key (len + EncryptedPrivateKeyInfo) |
 *                          chain count | per cert: [v2: type] | len | DER
 *   entry 2 (trusted certificate): alias | date | [v2: type] | len | DER
 *
 * Strings are Java's writeUTF (length + modified UTF-8); integers big-endian. The digest is
 * SHA-1 over the password (UTF-16BE), "Mighty Aphrodite" and every byte before it: checked before
 * anything is trusted. Private keys are protected by Sun's KeyProtector: a 20-byte salt, the key
 * XORed with a SHA-1 keystream of (password, previous block) starting from the salt, and SHA-1
 * of (password, plain key) to check the result.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { algorithm, children, octets, parseDer, TAG } from './der';
import { KeyStoreError } from './errors';
import type { StoreContents } from './types';

export const JKS_MAGIC = 0xfeedfeed;
export const JCEKS_MAGIC = 0xcececece;
const KEY_PROTECTOR = '1.3.6.1.4.1.42.2.17.1.1';
const DIGEST = 20;
/** More entries than any real store, fewer than would make a hostile count costly. */
const MAX_ENTRIES = 100_000;

/** Java's char-by-char password bytes (two per char, big-endian, no terminator). */
function passwordBytes(password: string): Buffer {
  const out = Buffer.alloc(password.length * 2);
  for (let i = 0; i < password.length; i++) out.writeUInt16BE(password.charCodeAt(i), i * 2);
  return out;
}

class Cursor {
  private off = 0;
  constructor(private readonly buf: Buffer, private readonly end: number) {}
  private need(n: number): void {
    if (n < 0 || this.off + n > this.end) throw new KeyStoreError('truncated JKS store');
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }
  skip(n: number): void {
    this.need(n);
    this.off += n;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }
  /** DataInput.readUTF: modified UTF-8, which differs from UTF-8 only for NUL and astral chars. */
  utf(): string {
    this.need(2);
    const n = this.buf.readUInt16BE(this.off);
    this.off += 2;
    return this.bytes(n).toString('utf8');
  }
  get done(): boolean {
    return this.off === this.end;
  }
}

/** KeyProtector.recover: the PKCS#8 key, or a KeyStoreError when the password does not fit. */
function recoverKey(protectedKey: Buffer, password: Buffer, alias: string): Buffer {
  const { oid, params } = algorithm(children(parseDer(protectedKey), TAG.sequence, 'EncryptedPrivateKeyInfo')[0], 'key protection algorithm');
  if (oid !== KEY_PROTECTOR) throw new KeyStoreError(`key "${alias}" is protected with ${oid}, not Sun's KeyProtector (a JCEKS key?); convert the store to PKCS12 with keytool -importkeystore`);
  if (params) throw new KeyStoreError(`key "${alias}": unexpected KeyProtector parameters`);
  const blob = octets(children(parseDer(protectedKey), TAG.sequence)[1], 'protected key');
  if (blob.length <= 2 * DIGEST) throw new KeyStoreError(`key "${alias}": protected key too short`);
  const salt = blob.subarray(0, DIGEST);
  const encrypted = blob.subarray(DIGEST, blob.length - DIGEST);
  const check = blob.subarray(blob.length - DIGEST);
  const plain = Buffer.alloc(encrypted.length);
  let digest: Buffer = salt;
  for (let off = 0; off < encrypted.length; off += DIGEST) {
    digest = createHash('sha1').update(password).update(digest).digest();
    for (let i = 0; i < DIGEST && off + i < encrypted.length; i++) plain[off + i] = encrypted[off + i]! ^ digest[i]!;
  }
  const expected = createHash('sha1').update(password).update(plain).digest();
  if (!timingSafeEqual(expected, check)) {
    throw new KeyStoreError(`cannot recover key "${alias}" with the store password (ZooKeeper, like keytool's default, protects keys with the store password)`);
  }
  return plain;
}

function certificate(c: Cursor, version: number): Buffer {
  if (version === 2) {
    const type = c.utf();
    if (type !== 'X.509') throw new KeyStoreError(`certificate type ${type} is not supported`);
  }
  return c.bytes(c.u32());
}

/** Reads a JKS store, verifying its integrity digest with `password` first. */
export function readJks(file: Buffer, password: string): StoreContents {
  if (file.length < 12 + DIGEST) throw new KeyStoreError('truncated JKS store');
  const magic = file.readUInt32BE(0);
  if (magic === JCEKS_MAGIC) throw new KeyStoreError('JCEKS stores are not supported; convert with `keytool -importkeystore -srcstoretype JCEKS -srckeystore OLD -destkeystore NEW.p12 -deststoretype PKCS12`');
  if (magic !== JKS_MAGIC) throw new KeyStoreError('not a JKS store (bad magic number)');
  const body = file.length - DIGEST;
  const pw = passwordBytes(password);
  const digest = createHash('sha1').update(pw).update('Mighty Aphrodite', 'utf8').update(file.subarray(0, body)).digest();
  if (!timingSafeEqual(digest, file.subarray(body))) throw new KeyStoreError('wrong password (the store\'s integrity check failed), or the file was tampered with');
  const c = new Cursor(file, body);
  c.skip(4);
  const version = c.u32();
  if (version !== 1 && version !== 2) throw new KeyStoreError(`unknown JKS version ${version}`);
  const count = c.u32();
  if (count > MAX_ENTRIES) throw new KeyStoreError(`implausible entry count ${count}`);
  const out: StoreContents = { keys: [], certificates: [] };
  for (let i = 0; i < count; i++) {
    const tag = c.u32();
    const alias = c.utf();
    c.skip(8); // creation date
    if (tag === 1) {
      const protectedKey = c.bytes(c.u32());
      const n = c.u32();
      if (n > MAX_ENTRIES) throw new KeyStoreError(`implausible chain length ${n}`);
      const chain = Array.from({ length: n }, () => certificate(c, version));
      out.keys.push({ alias, pkcs8: recoverKey(protectedKey, pw, alias), chain });
    } else if (tag === 2) {
      out.certificates.push({ alias, der: certificate(c, version), trusted: true });
    } else {
      throw new KeyStoreError(`entry "${alias}" has type ${tag}, which JKS does not define (a JCEKS secret key?)`);
    }
  }
  if (!c.done) throw new KeyStoreError('trailing bytes after the last JKS entry');
  return out;
}
