/**
 * Proves the resumable-watch promise on a real 3-member ensemble under a write load: a consumer
 * whose member is killed (it moves to another) and restarted, whose session is expired, and which
 * is itself restarted from its saved position, sees exactly the sequence of committed changes to
 * its subtree: the same events, in the same order, with the same data, as a replay of an
 * untouched member's txn log computes (the oracle applies the log to a fresh tree itself).
 */
import pino from 'pino';
import { openSqliteStore, readSnapshotBytes } from '../../src/storage';
import { applyTxn, createDatabase, decodeTxn, deserializeSnapshot } from '../../src/tree';
import { EventType } from '../../protocol/jute/constants';
import { createClient, ExponentialBackoff, ZkError, type PersistentWatch, type WatchPosition, type ZkClient } from '../../src/client';
import { startTestCluster, type TestCluster, type TestClusterMember } from '../../src/testing/cluster';
import { until } from '../harness/wait';
import { nextState } from './helpers';

const ROOT = '/load';
const typeName = new Map<number, string>(Object.entries(EventType).map(([k, v]) => [v, k]));
const under = (p: string) => p === ROOT || p.startsWith(ROOT + '/');

/** What the log says a recursive watch on ROOT was told after `from`, as `zxid type path =data`. */
function expectedFromLog(dataDir: string, from: bigint): string[] {
  const store = openSqliteStore({ dataDir, logger: pino({ level: 'silent' }) });
  try {
    const snap = store.latestSnapshot();
    if (snap && snap.zxid > from) throw new Error(`oracle: the log of ${dataDir} starts after the consumer's start (snapshot at ${snap.zxid})`);
    const db = snap ? deserializeSnapshot(readSnapshotBytes(store, snap)) : createDatabase();
    const out: string[] = [];
    for (let after = db.lastProcessedZxid; ; ) {
      const page = store.readLog(after, 5000);
      if (page.length === 0) break;
      for (const entry of page) {
        const { events } = applyTxn(db, decodeTxn(entry.data));
        for (const ev of events) {
          // A recursive watch: created/changed/deleted on ROOT and below, never childrenChanged.
          if (ev.zxid <= from || !under(ev.path) || ev.type === EventType.nodeChildrenChanged) continue;
          const data = ev.type === EventType.nodeDeleted ? undefined : db.tree.get(ev.path)?.data;
          out.push(`${ev.zxid} ${typeName.get(ev.type)} ${ev.path}${data === undefined ? '' : ` =${data?.toString() ?? 'null'}`}`);
        }
      }
      after = page[page.length - 1]!.zxid;
    }
    return out;
  } finally {
    store.close();
  }
}

describe('resumable watch consumer on a 3-member ensemble', () => {
  let cluster: TestCluster;
  const clients: ZkClient[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await cluster?.stop();
  });

  test('disconnected, moved, expired and restarted: exactly the committed changes, in order', async () => {
    cluster = await startTestCluster({ servers: 3 });
    const [m1, m2, m3] = cluster.members as [TestClusterMember, TestClusterMember, TestClusterMember];
    const open = async (cs: string) => {
      const c = await createClient(cs, { sessionTimeoutMs: 8000, connectTimeoutMs: 60_000, retryPolicy: new ExponentialBackoff(50, 20, 1000) });
      clients.push(c);
      return c;
    };
    const writer = await open(cluster.connectString);
    const owner = await open(cluster.connectString); // its ephemerals go when it is expired
    await writer.create(ROOT);

    // The consumer talks to members 2 and 3 only: member 1 is never touched and keeps the whole log.
    const consumerCs = `${m2.connectString},${m3.connectString}`;
    let consumer = await open(consumerCs);
    let watch: PersistentWatch = await consumer.addWatch(ROOT, { resumable: true, includeData: true, bufferSize: 100_000 });
    expect(watch.resumable).toBe(true);
    const start = watch.position!;
    const seen: string[] = [];
    const resyncs: string[] = [];
    let consuming = consume(watch);
    async function consume(w: PersistentWatch): Promise<void> {
      for await (const ev of w) {
        if (ev.resync) resyncs.push(ev.path);
        if (ev.type === 'none') continue;
        seen.push(`${ev.zxid} ${ev.type} ${ev.path}${ev.data === undefined ? '' : ` =${ev.data?.toString() ?? 'null'}`}`);
      }
    }

    // The load: creates, changes, deletes, multis and ephemerals under ROOT, and noise outside it.
    let stop = false;
    let ops = 0;
    const load = (async () => {
      for (let i = 0; !stop; i++) {
        const k = `${ROOT}/n${i % 7}`;
        try {
          switch (i % 6) {
            case 0:
              await writer.create(k, `c${i}`);
              break;
            case 1:
              await writer.setData(k, `s${i}`);
              break;
            case 2:
              await writer.transaction().create(`${k}-m${i}`, `m${i}`).setData(ROOT, `r${i}`).delete(`${k}-m${i}`).commit();
              break;
            case 3:
              await owner.create(`${ROOT}/e${i}`, `e${i}`, { mode: 'ephemeral' });
              break;
            case 4:
              await writer.delete(k);
              break;
            default:
              await writer.setData('/', `noise${i}`);
          }
        } catch (err) {
          if (!(err instanceof ZkError)) throw err; // NodeExists, NoNode, BadVersion: part of the load
        }
        ops++;
      }
    })();
    const t0 = Date.now();
    // ZK_DEBUG=1 prints the steps (what a hang waited for is in the until() error either way).
    const step = (what: string) => process.env.ZK_DEBUG && process.stderr.write(`${Date.now() - t0} ms: ${what} (seen ${seen.length}, ops ${ops}, consumer on ${consumer.connectedHost})\n`);
    const progress = async (n: number) => {
      step(`waiting for ${n} events`);
      const target = seen.length + n;
      await until(() => seen.length >= target, `the consumer to see ${n} more events (has ${seen.length})`, 60_000);
    };
    const memberOf = (c: ZkClient) => cluster.members.find((m) => m.connectString === c.connectedHost);

    await progress(50);
    step('kill the consumer’s member');
    // 1. Its member dies (kill -9): the consumer moves to the other one.
    const first = memberOf(consumer)!;
    await first.kill();
    await progress(50);
    expect(memberOf(consumer)).not.toBe(first);
    await first.restart();
    await progress(50);
    step('kill the other member');
    // 2. The other member dies too, after the first is back: it moves back.
    const second = memberOf(consumer)!;
    await second.kill();
    await progress(50);
    await second.restart();
    step('expire the consumer’s session');
    // 3. Its session expires.
    const lost = nextState(consumer, 'lost', 60_000);
    await cluster.expireSession(consumer.sessionId);
    await lost;
    await progress(50);
    step('restart the consumer');
    // 4. The consumer process restarts: it saves its position, a new client resumes from it.
    watch.stream.end();
    await consuming;
    const saved: WatchPosition = watch.position!;
    await consumer.close();
    consumer = await open(consumerCs);
    watch = await consumer.addWatch(ROOT, { from: saved, includeData: true, bufferSize: 100_000 });
    consuming = consume(watch);
    step('expire the owner’s session');
    // 5. The owner's session expires: its ephemerals are deleted by a closeSession txn.
    await cluster.expireSession(owner.sessionId);
    await progress(50);

    step('stop the load');
    stop = true;
    await load;
    const end = await writer.create(`${ROOT}/END`, 'end');
    await until(() => seen.some((s) => s.includes(`${end.path} `)), 'the consumer to see the END marker', 60_000);
    watch.stream.end();
    await consuming;

    step('compare with the log');
    // The oracle: member 1's own log, once it has applied END and is stopped.
    await until(async () => BigInt((await m1.status())?.zxid ?? '0') >= end.stat.czxid, 'member 1 to apply END');
    await m1.stop();
    const expected = expectedFromLog(m1.dataDir, start.zxid);
    expect(resyncs).toEqual([]);
    expect(seen.length).toBeGreaterThan(300);
    expect(seen).toEqual(expected);
    console.log(`resumable consumer: ${seen.length} events over ${ops} ops; killed m${first.id} and m${second.id}, expired and restarted the consumer, all matched the log`);
  }, 240_000);
});
