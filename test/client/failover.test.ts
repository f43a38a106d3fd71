/**
 * Proves that the client moves to another member of a 3-server ensemble when its server dies,
 * keeping the session (ephemerals stay) and its watches. Runs for each ensemble target in
 * ZK_COMPAT_TARGETS (by default zabkeeper-ensemble).
 */
import { compatTargets, isApache, isEnsemble } from '../harness/servers';
import { startEnsemble, type TestEnsemble } from '../../scripts/lib/ensemble-process';
import { ZkClient } from '../../src/client';
import { nextState, uniq } from './helpers';

const targets = compatTargets().filter(isEnsemble);

(targets.length > 0 ? describe.each(targets) : describe.skip.each(['none']))('failover on %s', (kind) => {
  let ens: TestEnsemble;

  beforeAll(async () => {
    ens = await startEnsemble(isApache(kind as never) ? 'apache' : 'zabkeeper', 3, { tickTime: 500 });
    await ens.waitServing();
  }, 120_000);
  afterAll(async () => {
    await ens?.stop();
  });

  test('the server dies: reconnect to another member with the same session and watches', async () => {
    const leader = await ens.waitLeader();
    const follower = ens.members.find((_, i) => i !== leader)!;
    const others = ens.members.filter((m) => m !== follower).map((m) => `127.0.0.1:${m.clientPort}`);
    // The follower first, so that we know where the client connects.
    const c = new ZkClient([`127.0.0.1:${follower.clientPort}`, ...others].join(','), { shuffleHosts: false, sessionTimeoutMs: 10_000 });
    const d = new ZkClient(others.join(','), { sessionTimeoutMs: 10_000 });
    try {
      await c.connect();
      await d.connect();
      expect(c.connectedHost).toBe(`127.0.0.1:${follower.clientPort}`);
      const base = uniq();
      await c.create(base, null, { mode: 'ephemeral' });
      const watch = (await c.exists(`${base}-later`, { watch: true })).watch;
      const sid = c.sessionId;
      const reconnected = nextState(c, 'reconnected', 60_000);
      await follower.kill9();
      await reconnected;
      expect(c.sessionId).toBe(sid);
      expect(c.connectedHost).not.toBe(`127.0.0.1:${follower.clientPort}`);
      await c.sync(base);
      expect((await c.exists(base)).stat?.ephemeralOwner).toBe(sid);
      await d.create(`${base}-later`);
      expect(await watch).toMatchObject({ type: 'nodeCreated', path: `${base}-later` });
    } finally {
      await c.close();
      await d.close();
    }
  });
});
