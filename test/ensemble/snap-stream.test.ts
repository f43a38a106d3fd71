import pino from 'pino';
import { encodePayload } from '../../protocol/peer/codec';
import type { PeerMessage } from '../../protocol/peer/messages';
import { PeerTransport, type PeerBodyCodec } from '../../src/quorum/transport';
import { peerBodyCodec } from '../../src/server/ensemble';
import { SnapshotSync } from '../../src/server/snapsync';
import { SnapshotTaker } from '../../src/server/snapshots';
import { decodeSnapshotRef, openSqliteStore, readSnapshotBytes, writeSnapshotBytes, type Store } from '../../src/storage';
import { createDatabase, applyTxn, treeDigest, type ZkDatabase } from '../../src/tree';
import { sealEntry } from '../../src/util/checksum';
import { tempDir } from '../storage/helpers';
import { freePort } from '../harness/ports';
import { turnCounter, until } from '../harness/wait';

/**
 * A SNAP travels as a stream (issue 12): the leader sends its newest durable snapshot chunk by
 * chunk with flow control (never more than ~1 MiB buffered, messages sent meanwhile queued behind
 * it), the learner checks every chunk's CRC and the body checksum and decodes as chunks arrive; a
 * chunk damaged on the way drops the link and leaves nothing named. Snapshots themselves are
 * taken a slice per event-loop turn.
 */
const logger = pino({ level: process.env.SNAPLOG ?? "silent" });
const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

function bigDb(nodes: number): ZkDatabase {
  const db = createDatabase();
  let zxid = 0x100000000n;
  const create = (path: string, data: Buffer | null, parentCVersion: number) =>
    applyTxn(db, { zxid: ++zxid, sessionId: 1n, cxid: 0, time: 1n, body: { type: 'create', path, data, acl: OPEN, ephemeralOwner: 0n, parentCVersion, kind: 'persistent', opCode: 1 } });
  create('/big', null, 1);
  for (let i = 0; i < nodes; i++) create(`/big/n${i}`, Buffer.alloc(100, i), i + 1);
  return db;
}

interface Pair {
  leader: PeerTransport;
  learner: PeerTransport;
  leaderStore: Store;
  learnerStore: Store;
  leaderSync: SnapshotSync;
  learnerSync: SnapshotSync;
  received: PeerMessage[];
  close(): Promise<void>;
}

async function pair(leaderCodec: PeerBodyCodec = peerBodyCodec): Promise<Pair> {
  const a = tempDir();
  const b = tempDir();
  const leaderStore = openSqliteStore({ dataDir: a.dir });
  const learnerStore = openSqliteStore({ dataDir: b.dir });
  const leaderSync = new SnapshotSync(leaderStore, logger);
  const learnerSync = new SnapshotSync(learnerStore, logger);
  const ports = [await freePort(), await freePort()];
  const peers = [{ id: 1, host: '127.0.0.1', port: ports[0] }, { id: 2, host: '127.0.0.1', port: ports[1] }];
  const learner = new PeerTransport({ self: 1, listen: { host: '127.0.0.1', port: ports[0] }, peers, codec: peerBodyCodec, logger, maxFrameBytes: 16 << 20, streams: learnerSync });
  const leader = new PeerTransport({ self: 2, listen: { host: '127.0.0.1', port: ports[1] }, peers, codec: leaderCodec, logger, maxFrameBytes: 16 << 20, streams: leaderSync });
  const received: PeerMessage[] = [];
  learner.on('message', (_from: number, m: PeerMessage) => received.push(m));
  const up = new Promise((r) => learner.once('up', r));
  await learner.start();
  await leader.start();
  await up;
  return {
    leader, learner, leaderStore, learnerStore, leaderSync, learnerSync, received,
    async close() {
      await leader.close();
      await learner.close();
      leaderStore.close();
      learnerStore.close();
      a.cleanup();
      b.cleanup();
    },
  };
}

/** Takes a snapshot of `db` into `store` the way a server does (a slice per turn); counts the turns. */
async function snapshotInto(store: Store, db: ZkDatabase): Promise<number> {
  // A snapshot names state the store already reaches: put the store at that zxid first.
  store.persist({ snapshot: writeSnapshotBytes(store, db.lastProcessedZxid, Buffer.from('placeholder'), 0), hardState: { acceptedEpoch: 1, currentEpoch: 1 } });
  const counter = turnCounter();
  const info = await new SnapshotTaker({ db, store, logger }).take();
  counter.stop();
  expect(info?.zxid).toBe(db.lastProcessedZxid);
  return counter.turns();
}

describe('SNAP streaming', () => {
  test('a snapshot is taken across event-loop turns; the SNAP streams in flow-controlled chunks; later messages wait behind it', async () => {
    const db = bigDb(40_000);
    const p = await pair();
    try {
      const turns = await snapshotInto(p.leaderStore, db);
      expect(turns).toBeGreaterThan(2); // the loop kept turning while the snapshot was taken
      const snap = p.leaderSync.snapshotForSync();
      const info = p.leaderStore.latestSnapshot()!;
      expect(info.chunks).toBeGreaterThan(8);
      // Flow control: whenever the next chunk is read, at most ~1 MiB waits in the socket.
      const buffered: number[] = [];
      const read = p.leaderStore.readSnapshotChunks.bind(p.leaderStore);
      p.leaderStore.readSnapshotChunks = (i, from, n) => {
        buffered.push(p.leader.bufferedBytes(1));
        return read(i, from, n);
      };
      const proposal: PeerMessage = { type: 'proposal', zxid: snap.zxid + 1n, data: sealEntry(snap.zxid + 1n, Buffer.from('next')) };
      p.leader.send(1, { type: 'snap', zxid: snap.zxid, data: snap.data });
      p.leader.send(1, proposal);
      p.leader.send(1, { type: 'newleader', epoch: 1, zxid: snap.zxid + 1n });
      await until(() => p.received.length >= 3, 'the SNAP and what followed it');
      expect(p.received.map((m) => m.type)).toEqual(['snap', 'proposal', 'newleader']);
      expect(buffered).toHaveLength(info.chunks);
      expect(Math.max(...buffered)).toBeLessThan((1 << 20) + 400 * 1024);
      // The learner decoded it while it streamed, and wrote the same body to its store.
      const local = p.received[0] as Extract<PeerMessage, { type: 'snap' }>;
      const prepared = p.learnerSync.takePrepared(local.data)!;
      expect(treeDigest(prepared)).toBe(treeDigest(db));
      const ref = { zxid: local.zxid, ...decodeSnapshotRef(local.data) };
      p.learnerStore.persist({ snapshot: ref, hardState: { acceptedEpoch: 1, currentEpoch: 1 } });
      expect(readSnapshotBytes(p.learnerStore, ref).equals(readSnapshotBytes(p.leaderStore, info))).toBe(true);
    } finally {
      await p.close();
    }
  });

  test('a chunk damaged in flight drops the link; the learner names nothing and drops the partial body', async () => {
    let flip = true;
    const corrupting: PeerBodyCodec = {
      encode: (m) => {
        if (m.type === 'snapchunk' && m.seq === 2 && flip) {
          flip = false;
          const data = Buffer.from(m.data);
          data[data.length >> 1] ^= 0x01;
          return encodePayload({ ...m, data });
        }
        return peerBodyCodec.encode(m);
      },
      decode: peerBodyCodec.decode,
    };
    const db = bigDb(10_000);
    const p = await pair(corrupting);
    try {
      await snapshotInto(p.leaderStore, db);
      const down = new Promise((r) => p.learner.once('down', r));
      const snap = p.leaderSync.snapshotForSync();
      p.leader.send(1, { type: 'snap', zxid: snap.zxid, data: snap.data });
      await down;
      expect(p.received).toEqual([]);
      expect(p.learnerStore.listSnapshots()).toEqual([]);
      expect(p.learnerStore.purge(3).done).toBe(true);
      expect(p.learnerStore.sizes().dataBytes).toBeLessThan(1 << 20);
    } finally {
      await p.close();
    }
  });
});
