import fs from 'node:fs';
import path from 'node:path';
import { ErrorCode, OpCode } from '../../protocol/jute/constants';
import { writeSyncRequest } from '../../protocol/jute/records';
import { WireConnection } from '../../src/client/wire';
import { requests as rq } from '../../src/client/requests';
import { DATA_DB_FILE, LOG_DB_FILE, type Failpoints } from '../../src/storage';
import { createSurely, startInProcEnsemble, type InProcEnsemble } from '../harness/ensemble';
import { until } from '../harness/wait';

/**
 * A SNAP install is atomic (issue 9 item 2): real servers (core, ZabReplicator, SQLite) sync two
 * followers by SNAP from a snapshot below a txn they had already acknowledged, and the on-disk
 * state at every commit point of that install — what a kill -9 there would leave — still holds
 * the txn once the two followers elect a leader without the old one.
 */
const connect = (port: number) => WireConnection.connect({ host: '127.0.0.1', port, sessionTimeoutMs: 6000 });

/** Ends the session (a closeSession txn) so no expiry is left to commit later. */
async function closeSession(c: WireConnection): Promise<void> {
  await c.request(OpCode.closeSession);
  c.close();
}

async function syncRead(port: number, p: string): Promise<number> {
  const c = await connect(port);
  try {
    const s = await c.request(OpCode.sync, (w) => writeSyncRequest(w, { path: '/' }));
    expect(s.err).toBe(0);
    return (await rq.exists(c, p)).err;
  } finally {
    await closeSession(c);
  }
}

/** Waits until every running member has logged and committed the same zxid (nothing in flight). */
async function quiesce(ens: InProcEnsemble): Promise<void> {
  const status = () => ens.servers.filter((s) => s !== undefined).map((s) => s!.quorumStatus()!);
  await until(
    () => new Set(status().flatMap((x) => [x.lastZxid, x.committedZxid])).size === 1,
    () => `members to log and commit the same zxid: ${status().map((x) => `${x.lastZxid}/${x.committedZxid}`).join(' ')}`,
    15_000,
  );
}

/** The files a crash would leave: the databases and their WALs (the lock dies with the process). */
function copyImage(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const f of ['myid', DATA_DB_FILE, `${DATA_DB_FILE}-wal`, LOG_DB_FILE, `${LOG_DB_FILE}-wal`]) {
    if (fs.existsSync(path.join(from, f))) fs.copyFileSync(path.join(from, f), path.join(to, f));
  }
}

/**
 * Stops all three with equal logs, then starts the first two of `order` and lets them elect
 * before the third joins: with equal logs FLE picks the higher id of the two.
 */
async function restartInOrder(ens: InProcEnsemble, order: number[]): Promise<void> {
  await quiesce(ens);
  for (const i of [0, 1, 2]) await ens.stop(i);
  for (const i of order.slice(0, 2)) await ens.start(i);
  await ens.waitServing();
  for (const i of order.slice(2)) await ens.start(i);
}

describe('SNAP install crash points', () => {
  test('a follower crashing anywhere in a SNAP install keeps every txn it acknowledged', async () => {
    const ens = await startInProcEnsemble(3);
    const root = path.dirname(ens.options[0].dataDir);
    try {
      await ens.waitServing();
      await createSurely(ens, '/epoch1', null);
      // Epoch 2, led by server 3. Its snapshot (and log base) lands in epoch 2, so a follower whose
      // log still holds epoch 1 can only be synced by SNAP.
      await restartInOrder(ens, [2, 1, 0]);
      expect(await ens.waitServing()).toBe(2);
      await createSurely(ens, '/epoch2', null, 2);
      const leader = ens.servers[2]! as unknown as { housekeeping: { takeSnapshot(): unknown } };
      await leader.housekeeping.takeSnapshot();
      const snapZxid = ens.servers[2]!.store.latestSnapshot()!.zxid;
      // Server 1 goes down; the txn is acknowledged by servers 3 and 2, above 3's snapshot.
      await quiesce(ens);
      await ens.stop(0);
      const before = path.join(root, 'server1-without-t');
      copyImage(ens.options[0].dataDir, before);
      await createSurely(ens, '/t', Buffer.from('acknowledged'), 2);
      expect(await syncRead(ens.clientPorts[1], '/t')).toBe(ErrorCode.ok);
      await quiesce(ens);
      await ens.stop(2);
      await ens.stop(1);

      // Server 3 leads again with only its snapshot applied and SNAPs server 2 from it. Record
      // server 2's disk before every commit it makes: what a kill -9 at that point leaves.
      const images: string[] = [];
      ens.options[1].storageFailpoints = {
        beforeCommit: () => {
          const dir = path.join(root, `image-${images.length}`);
          copyImage(ens.options[1].dataDir, dir);
          images.push(dir);
        },
      };
      await ens.start(2);
      await ens.start(1);
      expect(await ens.waitServing()).toBe(2);
      ens.options[1].storageFailpoints = undefined;
      expect(ens.servers[1]!.store.latestSnapshot()?.zxid).toBe(snapZxid); // it really got that SNAP
      await ens.stop(1);
      await ens.stop(2);

      // Each crash point: servers 1 and 2 come back without server 3 and elect a leader.
      expect(images.length).toBeGreaterThanOrEqual(2);
      for (let k = 0; k < images.length; k++) {
        ens.options[0].dataDir = path.join(root, `restore-1-${k}`);
        ens.options[1].dataDir = path.join(root, `restore-2-${k}`);
        copyImage(before, ens.options[0].dataDir);
        copyImage(images[k], ens.options[1].dataDir);
        await ens.start(1);
        await ens.start(0);
        await ens.waitServing();
        for (const i of [0, 1]) expect({ crashPoint: k, server: i + 1, t: await syncRead(ens.clientPorts[i], '/t') }).toEqual({ crashPoint: k, server: i + 1, t: ErrorCode.ok });
        for (const i of [0, 1]) await ens.stop(i);
      }
    } finally {
      await ens.close();
    }
  });
});
