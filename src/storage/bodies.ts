import type { SnapshotInfo, Store } from './types';

/** Bytes per stored chunk when a whole snapshot is already in memory. */
export const SNAPSHOT_CHUNK_BYTES = 1 << 20;

/** Writes an in-memory snapshot as a finished (durable, not yet named) body. */
export function writeSnapshotBytes(store: Store, zxid: bigint, data: Buffer, createdAt: number): SnapshotInfo {
  const w = store.beginSnapshot();
  try {
    for (let off = 0; off < data.length; off += SNAPSHOT_CHUNK_BYTES) w.append(data.subarray(off, Math.min(data.length, off + SNAPSHOT_CHUNK_BYTES)));
    return w.finish(zxid, createdAt);
  } catch (err) {
    w.abort();
    throw err;
  }
}

/** A named snapshot's whole body, every chunk CRC-verified. */
export function readSnapshotBytes(store: Store, info: SnapshotInfo): Buffer {
  return Buffer.concat(store.readSnapshotChunks(info, 0, info.chunks));
}

/**
 * A snapshot body described in 28 bytes (u32 chunks, u64 bytes, u32 checksum, i64 createdAt,
 * u32 body id; big-endian): what a SNAP carries through the quorum core, which treats it as opaque
 * data. The body itself travels and rests as chunks.
 */
export type SnapshotRef = Omit<SnapshotInfo, 'zxid'>;

const REF_BYTES = 28;

export function encodeSnapshotRef(d: SnapshotRef): Buffer {
  const b = Buffer.alloc(REF_BYTES);
  b.writeUInt32BE(d.chunks, 0);
  b.writeBigUInt64BE(BigInt(d.bytes), 4);
  b.writeUInt32BE(d.checksum >>> 0, 12);
  b.writeBigInt64BE(BigInt(d.createdAt), 16);
  b.writeUInt32BE(d.id, 24);
  return b;
}

export function decodeSnapshotRef(b: Buffer): SnapshotRef {
  if (b.length !== REF_BYTES) throw new Error(`snapshot descriptor has ${b.length} bytes, expected ${REF_BYTES}`);
  return { chunks: b.readUInt32BE(0), bytes: Number(b.readBigUInt64BE(4)), checksum: b.readUInt32BE(12), createdAt: Number(b.readBigInt64BE(16)), id: b.readUInt32BE(24) };
}
