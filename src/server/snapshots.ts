import type { Logger } from 'pino';
import { createDatabase, expectedNodes, snapshotChunks, SnapshotDecoder, SnapshotEncoder, type ZkDatabase } from '../tree';
import { StoreCorruptError, type SnapshotInfo, type Store } from '../storage/types';
import type { SnapshotRef } from '../storage/bodies';
import { nextBodyChecksum } from '../storage/rules';
import { crc32 } from '../util/checksum';
import { zxidHex } from '../util/zxid';
import { timed } from '../metrics/looplag';
import { nextTurn, type Clock } from '../util/clock';

/** Work per event-loop turn while taking a snapshot: encode for this long, then yield. */
const SLICE_MS = 8;
const ROWS_PER_CHECK = 2000;
/** Chunks read per storage call while loading. */
const LOAD_BATCH = 8;

export interface SnapshotHost {
  /** The live database (replaced wholesale by a SNAP install: a running snapshot then gives up). */
  readonly db: ZkDatabase;
  readonly store: Store;
  readonly logger: Logger;
  /** Slices are measured with it (the simulator's never advances within a turn: one slice). */
  readonly clock: Clock;
}

/**
 * Takes snapshots without stopping the server: a copy-on-write scan of the tree (DataTree.beginScan)
 * encoded a slice at a time, each slice's finished chunks written to the store, yielding between
 * slices so clients keep being served; then one fsync and the catalog row that names it. Like
 * ZooKeeper, a snapshot asked for while one runs is skipped ("too busy to snap").
 */
export class SnapshotTaker {
  private running: Promise<SnapshotInfo | undefined> | undefined;
  private stopping = false;

  constructor(private readonly host: SnapshotHost) {}

  /**
   * For a graceful stop: a snapshot still scanning is abandoned, one whose body is complete waits
   * for its fsync and is named (a restart then replays less log). Resolves once none runs.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running?.catch(() => undefined);
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Starts a snapshot of the applied state; undefined when one is already running. */
  take(): Promise<SnapshotInfo | undefined> | undefined {
    if (this.running || this.stopping) return undefined;
    this.running = this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<SnapshotInfo | undefined> {
    const { store, logger, clock } = this.host;
    const db = this.host.db;
    const zxid = db.lastProcessedZxid;
    const started = clock.now();
    const writer = store.beginSnapshot();
    let scanning = true;
    const abandon = (why = 'the database was replaced by a SNAP'): undefined => {
      logger.info({ zxid: zxidHex(zxid) }, `snapshot abandoned: ${why}`);
      writer.abort();
      return undefined;
    };
    try {
      const enc = new SnapshotEncoder(zxid);
      // The sessions as of now (a copy: 100k sessions are encoded over several slices, while the
      // live map keeps changing), then the tree's copy-on-write scan.
      const sessions = [...db.sessions];
      let nextSession = 0;
      // Encoded chunks not yet written. Writing is part of the slice's budget, one chunk per clock
      // check: a 256 KB chunk's insert costs 0.3-2 ms, and up to 90 ms when the disk is busy with
      // the log's fsyncs, so a slice that wrote all it had encoded (15 chunks) stalled for 100-400 ms.
      let unwritten: Buffer[] = [];
      let nextUnwritten = 0;
      db.tree.beginScan(zxid);
      for (let done = false; !done; ) {
        if (this.host.db !== db) return abandon();
        if (this.stopping) return abandon('the server is stopping');
        done = timed('snapshot slice', () => {
          const until = clock.now() + SLICE_MS;
          while (nextSession < sessions.length && clock.now() < until) {
            for (const stop = Math.min(sessions.length, nextSession + ROWS_PER_CHECK); nextSession < stop; nextSession++) enc.addSession(...sessions[nextSession]);
          }
          while (clock.now() < until) {
            if (nextUnwritten < unwritten.length) writer.append(unwritten[nextUnwritten++]!);
            else if (scanning) {
              if (db.tree.scanEach(ROWS_PER_CHECK, (r) => enc.addRow(r))) {
                db.tree.endScan();
                scanning = false;
              }
              unwritten = enc.takeChunks();
              nextUnwritten = 0;
            } else return true;
          }
          return !scanning && nextUnwritten === unwritten.length;
        });
        if (!done) await nextTurn(clock);
      }
      // The body's fsync (all of it: 128 MB at 1M znodes) runs off the event loop; only then is
      // the body named, so a crash before that leaves an unnamed body that purge drops.
      const written = timed('snapshot finish', () => {
        for (const c of enc.finish()) writer.append(c);
        return new Promise<SnapshotInfo>((resolve, reject) => writer.finishWritten(zxid, clock.wallNow(), (err, info) => (err ? reject(err) : resolve(info))));
      });
      const info = await written;
      if (this.host.db !== db) return abandon();
      timed('snapshot name', () => store.saveSnapshot(info));
      logger.info({ zxid: zxidHex(zxid), bytes: info.bytes, chunks: info.chunks, ms: Math.round(clock.now() - started) }, 'snapshot taken');
      return info;
    } catch (err) {
      writer.abort();
      throw err;
    } finally {
      if (scanning && this.host.db === db) db.tree.endScan();
    }
  }
}

/**
 * Loads a named snapshot chunk by chunk: each chunk's CRC and the whole body's checksum are
 * verified while decoding (no separate integrity pass over the file). The last chunk is read first
 * for the node count its end record states, so the tree is sized once before decoding.
 */
export function loadSnapshot(store: Store, info: SnapshotInfo): ZkDatabase {
  const [last] = info.chunks > 0 ? store.readSnapshotChunks(info, info.chunks - 1, 1) : [];
  const decoder = new SnapshotDecoder(last === undefined ? 0 : (expectedNodes(last, info.bytes) ?? 0));
  let checksum = 0;
  const crcs: number[] = [];
  for (let seq = 0; seq < info.chunks; seq += LOAD_BATCH) {
    crcs.length = 0;
    // The store checked each chunk against its stored CRC: fold those, do not hash again.
    const chunks = store.readSnapshotChunks(info, seq, LOAD_BATCH, crcs);
    if (crcs.length !== chunks.length) throw new Error(`store gave ${crcs.length} CRCs for ${chunks.length} chunks`);
    chunks.forEach((chunk, i) => {
      checksum = nextBodyChecksum(checksum, crcs[i]!);
      decoder.push(chunk);
    });
  }
  if (checksum !== info.checksum) throw new StoreCorruptError(`snapshot ${zxidHex(info.zxid)} fails its whole-body checksum`);
  const db = decoder.finish();
  if (db.lastProcessedZxid !== info.zxid) throw new StoreCorruptError(`snapshot ${zxidHex(info.zxid)} holds state at ${zxidHex(db.lastProcessedZxid)}`);
  return db;
}

/** The initial database at zxid 0, as chunks: what a leader with no snapshot yet sends in a SNAP. */
export function emptySnapshot(): { chunks: Buffer[]; descriptor: SnapshotRef } {
  const chunks = snapshotChunks(createDatabase());
  let checksum = 0;
  for (const c of chunks) checksum = nextBodyChecksum(checksum, crc32(c));
  return { chunks, descriptor: { chunks: chunks.length, bytes: chunks.reduce((n, c) => n + c.length, 0), checksum, createdAt: 0, id: 0 } };
}
