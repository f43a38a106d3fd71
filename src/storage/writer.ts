import { crc32 } from '../util/checksum';
import { checkZxid, nextBodyChecksum } from './rules';
import type { SnapshotInfo, SnapshotWriter, StorageFatalError } from './types';

/** What a store does for a snapshot body; the bookkeeping (CRCs, sizes, states) is shared. */
export interface BodyIo {
  /** Throws unless the store may write and body `id` is still being written. */
  checkWriting(id: number): void;
  /** One bounded write transaction holding chunk `seq` with its CRC. */
  writeChunk(id: number, seq: number, crc: number, chunk: Buffer): void;
  /** Makes every chunk durable and marks the body finished (still unnamed). */
  finish(id: number): void;
  /** finish's write now, its fsync off the event loop; the body is finished once `durable` is called without an error. */
  finishWritten(id: number, durable: (err?: StorageFatalError) => void): void;
  abort(id: number): void;
  maxChunks: number;
}

/** The SnapshotWriter both stores hand out for body `id`. */
export function bodyWriter(id: number, io: BodyIo): SnapshotWriter {
  let chunks = 0;
  let bytes = 0;
  let checksum = 0;
  const describe = (zxid: bigint, createdAt: number): SnapshotInfo => {
    checkZxid(zxid, 'snapshot zxid');
    if (!Number.isSafeInteger(createdAt)) throw new Error(`snapshot createdAt ${createdAt} must be an integer (ms)`);
    io.checkWriting(id);
    return { zxid, id, createdAt, bytes, chunks, checksum };
  };
  return {
    id,
    get bytes() {
      return bytes;
    },
    get chunks() {
      return chunks;
    },
    append(chunk: Buffer) {
      io.checkWriting(id);
      if (chunks + 1 >= io.maxChunks) throw new Error('snapshot has too many chunks');
      const crc = crc32(chunk);
      io.writeChunk(id, chunks, crc, chunk);
      checksum = nextBodyChecksum(checksum, crc);
      chunks++;
      bytes += chunk.length;
    },
    finish(zxid: bigint, createdAt: number): SnapshotInfo {
      const info = describe(zxid, createdAt);
      io.finish(id);
      return info;
    },
    finishWritten(zxid, createdAt, durable) {
      const info = describe(zxid, createdAt);
      io.finishWritten(id, (err) => durable(err, info));
    },
    abort() {
      io.abort(id);
    },
  };
}
