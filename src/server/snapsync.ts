import type { Logger } from 'pino';
import type { PeerMessage } from '../../protocol/peer/messages';
import { SnapshotDecoder, type ZkDatabase } from '../tree';
import type { SnapshotInfo, SnapshotWriter, Store } from '../storage/types';
import { decodeSnapshotRef as decodeDescriptor, encodeSnapshotRef as encodeDescriptor, type SnapshotRef } from '../storage/bodies';
import { chunkProblem, nextBodyChecksum } from '../storage/rules';
import type { PeerStreams } from '../quorum/transport';
import { zxidHex } from '../quorum/zxid';
import { crc32 } from '../util/checksum';
import { emptySnapshot } from './snapshots';
import { timed } from '../metrics/looplag';

/** A SNAP being received: written to the store and decoded chunk by chunk as it arrives. */
interface Incoming {
  from: number;
  zxid: bigint;
  expect: SnapshotRef;
  writer: SnapshotWriter;
  decoder: SnapshotDecoder;
  seq: number;
  bytes: number;
  checksum: number;
}

/**
 * SNAP over the peer links, in the shell (the core still sends and receives one SNAP whose data is
 * a small descriptor):
 *  - leader: the core's snapshot hook names this server's newest durable snapshot (see
 *    snapshotForSync); the outgoing SNAP expands into a header plus that snapshot's chunks, read
 *    from the store one at a time as the socket drains (PeerTransport's flow control), so a
 *    snapshot of any size is sent in bounded steps with bounded memory and no frame-size limit;
 *  - learner: each chunk's CRC is checked, the chunk is written to a new snapshot body and decoded
 *    into a new tree right away (bounded work per chunk); once the whole-body checksum matches, the
 *    core gets a SNAP naming the local body. The install itself (naming the body together with the
 *    synced txns and epochs) is one store.persist in the ZAB driver, and swapping in the prebuilt
 *    tree costs nothing.
 * Anything wrong (a CRC, the body checksum, a record that does not decode) drops the link.
 */
export class SnapshotSync implements PeerStreams {
  private incoming: Incoming | undefined;
  /** Trees decoded from received SNAPs, by body id, waiting for the core to install them. */
  private readonly prepared = new Map<number, ZkDatabase>();

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  /** For the core's snapshot hook: this server's newest durable snapshot (or the empty one at 0). */
  snapshotForSync(): { zxid: bigint; data: Buffer } {
    const s = this.store.latestSnapshot();
    if (!s) return { zxid: 0n, data: encodeDescriptor(emptySnapshot().descriptor) };
    return { zxid: s.zxid, data: encodeDescriptor(s) };
  }

  expand(to: number, msg: PeerMessage): Iterator<PeerMessage> | undefined {
    if (msg.type !== 'snap') return undefined;
    const d = decodeDescriptor(msg.data);
    const header: PeerMessage = { type: 'snap', zxid: msg.zxid, data: encodeDescriptor({ ...d, id: 0 }) };
    this.logger.info({ peer: to, zxid: zxidHex(msg.zxid), bytes: d.bytes, chunks: d.chunks }, 'sending SNAP');
    return d.id === 0 ? this.fromMemory(header) : this.fromStore(header, { ...d, zxid: msg.zxid });
  }

  private *fromStore(header: PeerMessage, info: SnapshotInfo): Iterator<PeerMessage> {
    yield header;
    for (let seq = 0; seq < info.chunks; seq++) {
      const [data] = timed('SNAP chunk read', () => this.store.readSnapshotChunks(info, seq, 1));
      yield { type: 'snapchunk', seq, crc: crc32(data), data };
    }
  }

  private *fromMemory(header: PeerMessage): Iterator<PeerMessage> {
    yield header;
    const { chunks } = emptySnapshot();
    for (const [seq, data] of chunks.entries()) yield { type: 'snapchunk', seq, crc: crc32(data), data };
  }

  receive(from: number, msg: PeerMessage): PeerMessage | undefined {
    if (msg.type === 'snap') return this.begin(from, msg);
    if (msg.type === 'snapchunk') return timed('SNAP chunk received', () => this.chunk(from, msg));
    return msg;
  }

  down(peer: number): void {
    if (this.incoming?.from === peer) this.drop('the link to the leader went down');
  }

  /** The tree decoded from the received SNAP that `data` (the core's SNAP descriptor) names. */
  takePrepared(data: Buffer): ZkDatabase | undefined {
    const id = decodeDescriptor(data).id;
    const db = this.prepared.get(id);
    this.prepared.delete(id);
    return db;
  }

  private begin(from: number, msg: Extract<PeerMessage, { type: 'snap' }>): undefined {
    if (this.incoming) this.drop('a new SNAP started');
    const expect = decodeDescriptor(msg.data);
    if (expect.chunks === 0) throw new Error('SNAP without chunks');
    this.incoming = { from, zxid: msg.zxid, expect, writer: this.store.beginSnapshot(), decoder: new SnapshotDecoder(), seq: 0, bytes: 0, checksum: 0 };
    this.logger.info({ peer: from, zxid: zxidHex(msg.zxid), bytes: expect.bytes, chunks: expect.chunks }, 'receiving SNAP');
    return undefined;
  }

  private chunk(from: number, msg: Extract<PeerMessage, { type: 'snapchunk' }>): PeerMessage | undefined {
    const inc = this.incoming;
    if (!inc || inc.from !== from) throw new Error('SNAPCHUNK without a SNAP');
    try {
      const problem = chunkProblem({ seq: msg.seq, crc: msg.crc, data: msg.data }, inc.seq);
      if (problem) throw new Error(`SNAP ${zxidHex(inc.zxid)}: ${problem}`);
      inc.writer.append(msg.data);
      inc.decoder.push(msg.data);
      inc.checksum = nextBodyChecksum(inc.checksum, msg.crc);
      inc.bytes += msg.data.length;
      inc.seq++;
      if (inc.seq < inc.expect.chunks) return undefined;
      return this.complete(inc);
    } catch (err) {
      this.drop((err as Error).message);
      throw err;
    }
  }

  private complete(inc: Incoming): PeerMessage {
    const { expect } = inc;
    if (inc.checksum !== expect.checksum || inc.bytes !== expect.bytes) throw new Error(`SNAP ${zxidHex(inc.zxid)} fails its whole-body checksum`);
    const db = inc.decoder.finish();
    if (db.lastProcessedZxid !== inc.zxid) throw new Error(`SNAP ${zxidHex(inc.zxid)} holds state at ${zxidHex(db.lastProcessedZxid)}`);
    const info = inc.writer.finish(inc.zxid, expect.createdAt);
    this.incoming = undefined;
    // Only the newest SNAP can still be installed.
    this.prepared.clear();
    this.prepared.set(info.id, db);
    this.logger.info({ zxid: zxidHex(inc.zxid), nodes: db.tree.nodeCount }, 'SNAP received and decoded');
    return { type: 'snap', zxid: inc.zxid, data: encodeDescriptor(info) };
  }

  private drop(reason: string): void {
    const inc = this.incoming;
    if (!inc) return;
    this.incoming = undefined;
    inc.writer.abort();
    this.logger.warn({ zxid: zxidHex(inc.zxid), received: inc.seq, of: inc.expect.chunks, reason }, 'SNAP abandoned');
  }
}
