import { crc32, entryIntact } from '../util/checksum';
import { counterOf, epochOf, isSuccessor, zxidHex as hex, ZXID_MAX } from '../util/zxid';
import type { LogEntry, SnapshotInfo } from './types';

/**
 * Pure rules shared by the SQLite and in-memory stores, so both enforce the same log shape: the
 * successor rule of util/zxid.ts (within an epoch counters are contiguous, a new epoch's history
 * starts at counter 1: ZAB invariant Z4).
 */

export function checkZxid(zxid: bigint, what: string): void {
  if (typeof zxid !== 'bigint' || zxid < 0n || zxid > ZXID_MAX) throw new Error(`${what} ${String(zxid)} is not a valid zxid`);
}

/**
 * Checks that a batch extends the log from `last` (the store's lastZxid after any truncation).
 * A violation is a bug in the caller, never user input, so it throws a plain Error.
 */
export function checkAppend(last: bigint, entries: readonly LogEntry[]): void {
  let prev = last;
  for (const e of entries) {
    if (!Buffer.isBuffer(e.data)) throw new Error('log entry data must be a Buffer');
    checkZxid(e.zxid, 'log entry zxid');
    // Verify on write: a damaged txn is never made durable (it would spread to every replay).
    if (!entryIntact(e.zxid, e.data)) throw new Error(`log entry ${hex(e.zxid)} fails its checksum: refusing to persist a damaged txn`);
    if (!isSuccessor(prev, e.zxid)) {
      throw new Error(`log append out of order: ${hex(e.zxid)} cannot follow ${hex(prev)}`);
    }
    prev = e.zxid;
  }
}

export function checkTruncate(truncateAfter: bigint, latestSnapshotZxid: bigint | undefined): void {
  checkZxid(truncateAfter, 'truncateAfter');
  // Snapshots only ever hold committed state, and ZAB never truncates committed txns: truncating
  // below a snapshot means the caller's view of history is wrong.
  if (latestSnapshotZxid !== undefined && truncateAfter < latestSnapshotZxid) {
    throw new Error(`cannot truncate the log after ${hex(truncateAfter)}: snapshot ${hex(latestSnapshotZxid)} is newer`);
  }
}

export function checkHardState(hs: { acceptedEpoch: number; currentEpoch: number }): void {
  const ok = (n: number) => Number.isSafeInteger(n) && n >= 0 && n <= 0xffffffff;
  if (!ok(hs.acceptedEpoch) || !ok(hs.currentEpoch)) throw new Error(`invalid hard state ${JSON.stringify(hs)}`);
}

/**
 * What purge removes: snapshots older than the N newest, and log entries covered by the oldest
 * kept one. Stateless, so a purge spread over several calls (or cut short by a crash) resumes.
 */
export function planPurge(snapshots: readonly Pick<SnapshotInfo, 'zxid'>[], retainSnapshots: number): { removeBelow: bigint; logUpTo: bigint } | undefined {
  // ZooKeeper's autopurge treats a retain count under 3 as 3.
  const keep = Math.max(3, Math.floor(retainSnapshots));
  if (snapshots.length < keep) return undefined;
  const sorted = [...snapshots].sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
  const oldestKept = sorted[sorted.length - keep].zxid;
  return { removeBelow: oldestKept, logUpTo: oldestKept };
}

/**
 * Startup consistency of the durable history (RELIABILITY D2). Returns a reason when the store must
 * refuse to start, or undefined when the history is usable.
 *  - `gap`: first adjacent pair of log zxids that is not a legal succession, if any;
 *  - the log must be reachable from the latest snapshot (or from nothing when there is none).
 */
export function historyProblem(h: {
  firstLog: bigint | undefined;
  gap: { prev: bigint; next: bigint } | undefined;
  latestSnapshot: bigint | undefined;
  firstLogAfterSnapshot: bigint | undefined;
  lastLog: bigint | undefined;
  acceptedEpoch: number;
}): string | undefined {
  if (h.gap) return `txn log has a hole: ${hex(h.gap.next)} follows ${hex(h.gap.prev)}`;
  if (h.firstLog === undefined || h.lastLog === undefined) return undefined;
  if (h.latestSnapshot === undefined) {
    if (counterOf(h.firstLog) !== 1n) return `txn log starts at ${hex(h.firstLog)} but there is no snapshot: earlier txns are missing`;
  } else if (h.firstLogAfterSnapshot !== undefined && !isSuccessor(h.latestSnapshot, h.firstLogAfterSnapshot)) {
    // Entries at or below the snapshot are fine; the first one after it must continue it.
    const pred = h.firstLog > h.latestSnapshot ? 'the log starts' : 'the log continues';
    return `${pred} at ${hex(h.firstLogAfterSnapshot)} but the newest snapshot is at ${hex(h.latestSnapshot)}: txns are missing`;
  }
  if (epochOf(h.lastLog) > h.acceptedEpoch) {
    return `txn log reaches epoch ${epochOf(h.lastLog)} but acceptedEpoch is ${h.acceptedEpoch}: epoch metadata is missing`;
  }
  return undefined;
}

/** The larger of two optional zxids (absent = 0). */
export function maxOf(a: bigint | undefined, b: bigint | undefined): bigint {
  const x = a ?? 0n;
  const y = b ?? 0n;
  return x > y ? x : y;
}

/** Running checksum of a snapshot body: CRC-32 over its chunks' CRC-32s, in order. */
export function nextBodyChecksum(prev: number, chunkCrc: number): number {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(chunkCrc >>> 0);
  return crc32(b, prev);
}

/** Checks a chunk read back (or received) against its stored CRC and position. */
export function chunkProblem(chunk: { seq: number; crc: number; data: Uint8Array }, expectedSeq: number): string | undefined {
  if (chunk.seq !== expectedSeq) return `chunk ${expectedSeq} is missing`;
  if (crc32(chunk.data) !== chunk.crc >>> 0) return `chunk ${chunk.seq} fails its checksum`;
  return undefined;
}

/**
 * What to tell an operator whose member has damaged data: the others hold the same committed
 * history, so the member can start empty and fetch a snapshot (SNAP) from the leader.
 */
export function resyncAdvice(dataDir: string, dataLogDir: string, files: { data: string; log: string }): string {
  const where = dataDir === dataLogDir ? `${files.data}* and ${files.log}* out of ${dataDir}` : `${files.data}* out of ${dataDir} and ${files.log}* out of ${dataLogDir}`;
  return (
    `This member's data cannot be trusted and it will not start. To re-sync it from the other members: stop it, move ${where} ` +
    `(keep the myid file), then start it again: it joins with an empty store and fetches a snapshot from the leader (SNAP). ` +
    `Do this only while the other members form a quorum. A standalone server must be restored from a copy of its data dir.`
  );
}
