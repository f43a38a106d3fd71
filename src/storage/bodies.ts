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
