/**
 * A strict DER reader: just enough ASN.1 to walk PKCS#12, PKCS#8 and JKS key blobs. Definite
 * lengths only (DER, which keytool and OpenSSL write); every length is checked against what is
 * left, so a truncated or hostile file is a KeyStoreError, never an out-of-range read.
 */
import { KeyStoreError } from './errors';

export const TAG = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
  /** [0] constructed (explicit context tag 0), as in ContentInfo's content. */
  context0: 0xa0,
  /** [0] primitive (implicit OCTET STRING), as in EncryptedContentInfo's encryptedContent. */
  context0Primitive: 0x80,
} as const;

export interface Der {
  tag: number;
  /** The whole element, header included (what a certificate's DER is). */
  bytes: Buffer;
  /** The content octets. */
  value: Buffer;
}

/** Reads one element at `offset` of `buf`; `end` is where the next one starts. */
export function readDer(buf: Buffer, offset = 0): Der & { end: number } {
  if (offset + 2 > buf.length) throw new KeyStoreError('truncated ASN.1 element');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new KeyStoreError('multi-byte ASN.1 tags are not used by key stores');
  let len = buf[offset + 1]!;
  let header = 2;
  if (len === 0x80) throw new KeyStoreError('indefinite-length (BER) encoding is not supported: re-export the store with keytool or openssl');
  if (len > 0x80) {
    const n = len & 0x7f;
    if (n > 4 || offset + 2 + n > buf.length) throw new KeyStoreError('bad ASN.1 length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[offset + 2 + i]!;
    header += n;
  }
  const end = offset + header + len;
  if (end > buf.length) throw new KeyStoreError('ASN.1 element runs past the end of its container');
  return { tag, bytes: buf.subarray(offset, end), value: buf.subarray(offset + header, end), end };
}

/** Parses `buf` as exactly one element (nothing may follow). */
export function parseDer(buf: Buffer): Der {
  const d = readDer(buf, 0);
  if (d.end !== buf.length) throw new KeyStoreError('trailing bytes after the ASN.1 structure');
  return { tag: d.tag, bytes: d.bytes, value: d.value };
}

/** The elements inside a constructed element, checked to have the expected tag. */
export function children(d: Der, tag: number = d.tag, what = 'structure'): Der[] {
  expectTag(d, tag, what);
  const out: Der[] = [];
  for (let off = 0; off < d.value.length; ) {
    const c = readDer(d.value, off);
    out.push({ tag: c.tag, bytes: c.bytes, value: c.value });
    off = c.end;
  }
  return out;
}

export function expectTag(d: Der | undefined, tag: number, what: string): Der {
  if (!d || d.tag !== tag) throw new KeyStoreError(`malformed ${what} (expected ASN.1 tag 0x${tag.toString(16)}, found ${d ? `0x${d.tag.toString(16)}` : 'nothing'})`);
  return d;
}

/** Dotted text of an OBJECT IDENTIFIER. */
export function oid(d: Der | undefined, what = 'algorithm'): string {
  const v = expectTag(d, TAG.oid, what).value;
  if (v.length === 0) throw new KeyStoreError(`empty ${what} identifier`);
  const parts = [Math.floor(v[0]! / 40), v[0]! % 40];
  let n = 0;
  for (let i = 1; i < v.length; i++) {
    n = n * 128 + (v[i]! & 0x7f);
    if (n > Number.MAX_SAFE_INTEGER / 128) throw new KeyStoreError(`${what} identifier too large`);
    if ((v[i]! & 0x80) === 0) {
      parts.push(n);
      n = 0;
    }
  }
  return parts.join('.');
}

/** A small non-negative INTEGER (iteration counts, versions, key lengths). */
export function smallInt(d: Der | undefined, what: string): number {
  const v = expectTag(d, TAG.integer, what).value;
  if (v.length === 0 || v.length > 6 || (v[0]! & 0x80) !== 0) throw new KeyStoreError(`${what} is not a small non-negative integer`);
  return v.readUIntBE(0, v.length);
}

export function octets(d: Der | undefined, what: string): Buffer {
  return expectTag(d, TAG.octetString, what).value;
}

/** An AlgorithmIdentifier: the OID and its parameters (undefined when absent or NULL). */
export function algorithm(d: Der | undefined, what = 'algorithm'): { oid: string; params: Der | undefined } {
  const [id, params] = children(expectTag(d, TAG.sequence, what), TAG.sequence, what);
  return { oid: oid(id, what), params: params?.tag === TAG.null ? undefined : params };
}
