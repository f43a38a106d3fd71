/**
 * Proves a store error in an ensemble member is a deliberate fail-stop (issue 9 item 5): the member
 * logs, stops serving and emits 'fatal' (never an exception thrown from a callback, which would kill
 * an embedding process), the rest of the ensemble keeps serving, and the CLI exits with code 2.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ErrorCode } from '../../protocol/jute/constants';
import { WireConnection } from '../../src/client/wire';
import { requests as rq } from '../../src/client/requests';
import type { Failpoints } from '../../src/storage';
import { startInProcEnsemble, type InProcEnsemble } from '../harness/ensemble';
import { startEnsemble } from '../../scripts/lib/ensemble-process';

const connect = (port: number) => WireConnection.connect({ host: '127.0.0.1', port, sessionTimeoutMs: 6000 });

/** Restarts member i with failpoints the test can arm. */
async function withFailpoints(ens: InProcEnsemble, i: number): Promise<Failpoints> {
  const fp: Failpoints = { failFsync: false };
  await ens.stop(i);
  ens.options[i] = { ...ens.options[i], storageFailpoints: fp };
  await ens.start(i);
  await ens.waitServing();
  return fp;
}

describe('fail-stop of an ensemble member', () => {
  for (const who of ['follower', 'leader'] as const) {
    test(`a ${who} whose fsync fails stops serving with 'fatal'; the others keep serving`, async () => {
      const ens = await startInProcEnsemble(3);
      try {
        const leader = await ens.waitServing();
        const victim = who === 'leader' ? leader : (leader + 1) % 3;
        const fp = await withFailpoints(ens, victim);
        const server = ens.servers[victim]!;
        const fatal = new Promise<Error>((resolve) => server.once('fatal', resolve));
        fp.failFsync = true;
        // A write through a member that stays healthy: the victim must persist it (or its ACK).
        const other = [0, 1, 2].find((i) => i !== victim && i !== leader) ?? (victim + 1) % 3;
        const c = await connect(ens.clientPorts[other]);
        const write = rq.create(c, '/after-failure', null).then((r) => r.err, (e: Error) => e.message);
        const err = await fatal;
        expect(err.name).toBe('StorageFatalError');
        expect(server.isServing).toBe(false);
        expect(server.fatal).toBe(err);
        // The failed member refuses clients; the other two still form a quorum.
        await expect(connect(ens.clientPorts[victim])).rejects.toThrow();
        if (who === 'follower') expect(await write).toBe(ErrorCode.ok);
        c.close();
        const survivors = [0, 1, 2].filter((i) => i !== victim);
        ens.servers[victim] = undefined;
        await server.close();
        const newLeader = await ens.waitServing();
        expect(survivors).toContain(newLeader);
        const c2 = await connect(ens.clientPorts[survivors[0]]);
        expect((await rq.create(c2, '/still-serving', null)).err).toBe(ErrorCode.ok);
        c2.close();
      } finally {
        await ens.close();
      }
    });
  }
});

const root = process.getuid?.() === 0;
const mountable = root && spawnSync('mount', ['--version']).status === 0;

/** Needs root (it mounts a 1 MiB tmpfs as one member's dataDir); skipped otherwise. */
(mountable ? describe : describe.skip)('fail-stop of a member process (root: tmpfs data dir)', () => {
  test('a member whose disk fills up exits with code 2 and says why; the ensemble keeps serving', async () => {
    const mnt = fs.mkdtempSync(path.join(os.tmpdir(), `zk-full-${process.pid}-`));
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]).status).toBe(0);
    const ens = await startEnsemble('zabkeeper', 3, { tickTime: 500, dataDirOf: (id) => (id === 3 ? mnt : undefined) });
    try {
      await ens.waitServing();
      const big = Buffer.alloc(100 * 1024, 1);
      const exited = ens.members[2].exited();
      // Every member logs every txn: 100 KiB txns fill member 3's 1 MiB disk within a few writes.
      // Member 3 may be the leader, so a write may fail with a connection loss; writes go on
      // through member 1 (reconnecting) until member 3 has exited.
      for (let n = 0; n < 200 && ens.members[2].running(); n++) {
        const c = await WireConnection.connect({ host: '127.0.0.1', port: ens.members[0].clientPort, sessionTimeoutMs: 10_000 }).catch(() => undefined);
        if (!c) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        await rq.create(c, `/big-${n}`, big).catch(() => undefined);
        c.close();
      }
      expect(await exited).toBe(2);
      expect(ens.members[2].log()).toMatch(/storage failure; stopping/);
      await ens.waitServing();
      const c = await WireConnection.connect({ host: '127.0.0.1', port: ens.members[0].clientPort, sessionTimeoutMs: 10_000 });
      expect((await rq.create(c, '/after-disk-full', null)).err).toBe(ErrorCode.ok);
      c.close();
    } finally {
      await ens.stop();
      spawnSync('umount', ['-l', mnt]);
      fs.rmSync(mnt, { recursive: true, force: true });
    }
  }, 90_000);
});
