/**
 * RC2 decryption in CBC mode (RFC 2268), for the legacy PKCS#12 stores Java writes
 * (pbeWithSHAAnd40BitRC2-CBC protects their certificates). OpenSSL 3 keeps RC2 in its legacy
 * provider, which Node does not load, so it is done here; test/security/keystores.test.ts checks
 * it against the RFC's test vectors and against stores keytool wrote.
 */
import { KeyStoreError } from './errors';

/** RFC 2268 section 2: PITABLE, a permutation of 0..255 from the digits of pi. */
const PITABLE = Buffer.from(
  'd978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2179a59f587b34f1361456d8d09817d32' +
    'bd8f40eb86b77b0bf09521225c6b4e8254d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626' +
    '6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed708e8eade8052eef784aa72ac354d6a2a' +
    '961ad2715a1549744b9fd05e0418a4ecc2e0416e0f51cbcc2491af50a1f4703999' +
    '7c3a8523b8b47afc02365b25559731' +
    '2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a90d38341bab33ffb0bb480c5fb9b1cd2e' +
    'c5f3db47e5a59c770aa62068fe7fc1ad',
  'hex',
);

/** RFC 2268 section 2: the 64 16-bit round keys for a key and an effective key length in bits. */
export function rc2KeySchedule(key: Buffer, effectiveBits: number): Uint16Array {
  if (key.length < 1 || key.length > 128) throw new KeyStoreError(`RC2 key of ${key.length} bytes`);
  if (effectiveBits < 1 || effectiveBits > 1024) throw new KeyStoreError(`RC2 effective key length ${effectiveBits}`);
  const L = new Uint8Array(128);
  L.set(key);
  const T = key.length;
  for (let i = T; i < 128; i++) L[i] = PITABLE[(L[i - 1]! + L[i - T]!) & 0xff]!;
  const T8 = Math.ceil(effectiveBits / 8);
  const TM = 0xff >> (8 * T8 - effectiveBits);
  L[128 - T8] = PITABLE[L[128 - T8]! & TM]!;
  for (let i = 127 - T8; i >= 0; i--) L[i] = PITABLE[L[i + 1]! ^ L[i + T8]!]!;
  const K = new Uint16Array(64);
  for (let i = 0; i < 64; i++) K[i] = L[2 * i]! | (L[2 * i + 1]! << 8);
  return K;
}

const SHIFTS = [1, 2, 3, 5] as const;

/** Decrypts one 8-byte block in place (RFC 2268 section 4: r-mixing and r-mashing rounds). */
function decryptBlock(K: Uint16Array, b: Buffer, off: number): void {
  const R = [b.readUInt16LE(off), b.readUInt16LE(off + 2), b.readUInt16LE(off + 4), b.readUInt16LE(off + 6)];
  let j = 63;
  const rmix = (): void => {
    for (let i = 3; i >= 0; i--) {
      const s = SHIFTS[i]!;
      R[i] = ((R[i]! >>> s) | (R[i]! << (16 - s))) & 0xffff;
      R[i] = (R[i]! - K[j--]! - (R[(i + 3) & 3]! & R[(i + 2) & 3]!) - (~R[(i + 3) & 3]! & R[(i + 1) & 3]!)) & 0xffff;
    }
  };
  const rmash = (): void => {
    for (let i = 3; i >= 0; i--) R[i] = (R[i]! - K[R[(i + 3) & 3]! & 63]!) & 0xffff;
  };
  for (let r = 0; r < 5; r++) rmix();
  rmash();
  for (let r = 0; r < 6; r++) rmix();
  rmash();
  for (let r = 0; r < 5; r++) rmix();
  for (let i = 0; i < 4; i++) b.writeUInt16LE(R[i]!, off + 2 * i);
}

/** RC2-ECB decryption of whole blocks (the primitive the RFC's vectors test). */
export function rc2DecryptBlocks(key: Buffer, effectiveBits: number, data: Buffer): Buffer {
  if (data.length % 8 !== 0) throw new KeyStoreError('RC2 data is not a whole number of blocks');
  const K = rc2KeySchedule(key, effectiveBits);
  const out = Buffer.from(data);
  for (let off = 0; off < out.length; off += 8) decryptBlock(K, out, off);
  return out;
}

/** RC2-CBC decryption with PKCS#5 padding removed; a bad pad means a wrong key. */
export function rc2CbcDecrypt(key: Buffer, effectiveBits: number, iv: Buffer, data: Buffer): Buffer {
  if (iv.length !== 8) throw new KeyStoreError('RC2-CBC needs an 8-byte IV');
  const plain = rc2DecryptBlocks(key, effectiveBits, data);
  for (let off = 0; off < plain.length; off += 8) {
    const prev = off === 0 ? iv : data.subarray(off - 8, off);
    for (let i = 0; i < 8; i++) plain[off + i]! ^= prev[i]!;
  }
  return unpad(plain);
}

/** PKCS#5/#7 padding: 1..8 bytes each holding the pad length. */
export function unpad(plain: Buffer): Buffer {
  const n = plain.length > 0 ? plain[plain.length - 1]! : 0;
  if (n < 1 || n > 8 || n > plain.length || !plain.subarray(plain.length - n).every((x) => x === n)) throw new KeyStoreError('bad padding after decryption');
  return plain.subarray(0, plain.length - n);
}
