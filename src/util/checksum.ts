import zlib from 'node:zlib';

/**
 * CRC-32 (IEEE, as zlib and gzip compute it). Node ≥ 20.15 has a native zlib.crc32; older 20.x
 * builds get the table-driven version below (same results, slower).
 */
export const crc32: (data: Uint8Array, seed?: number) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function'
    ? (data, seed = 0) => (zlib as unknown as { crc32(d: Uint8Array, s: number): number }).crc32(data, seed)
    : crc32Js;

let table: Uint32Array | undefined;

function crc32Js(data: Uint8Array, seed = 0): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = ~seed >>> 0;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** Bytes of the checksum trailer of a sealed log entry. */
export const SEAL_BYTES = 4;

const zxidBytes = new Uint8Array(8);
const zxidView = new DataView(zxidBytes.buffer);

function entryCrc(zxid: bigint, payload: Uint8Array): number {
  // The zxid is covered too, so an intact entry filed under the wrong zxid is caught as well.
  // DataView takes it modulo 2^64 without the intermediate bigints Buffer.writeBigUInt64BE makes
  // (about 400 bytes of garbage per txn: the entry is checked three times on its way).
  zxidView.setBigUint64(0, zxid);
  return crc32(payload, crc32(zxidBytes));
}

/**
 * A log entry as it travels and rests: the encoded txn followed by CRC-32(zxid ‖ payload), big
 * endian. Sealed once when the leader encodes the txn; checked before it is written, when a peer
 * sends it and when it is read back, so damage anywhere on the way is caught, not replicated.
 */
export function sealEntry(zxid: bigint, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(payload.length + SEAL_BYTES);
  out.set(payload, 0);
  out.writeUInt32BE(entryCrc(zxid, payload), payload.length);
  return out;
}

/** Whether `data` is a sealed entry for `zxid` whose bytes are exactly as sealed. */
export function entryIntact(zxid: bigint, data: Uint8Array): boolean {
  if (data.length < SEAL_BYTES) return false;
  const end = data.length - SEAL_BYTES;
  const payload = data.subarray(0, end);
  const stored = ((data[end] << 24) | (data[end + 1] << 16) | (data[end + 2] << 8) | data[end + 3]) >>> 0;
  return entryCrc(zxid, payload) === stored;
}

/** The payload of a sealed entry (a view: no copy). */
export function entryPayload(data: Buffer): Buffer {
  return data.subarray(0, data.length - SEAL_BYTES);
}
