/**
 * Proves members that leave silently (no FIN, no RST: a cut that holds the bytes, as iptables DROP
 * does) are noticed by timeouts, that a leader cut off from its quorum never answers `sync` from
 * stale data (issue 9 item 7), and that a follower cut off from its leader disconnects its clients
 * before the leader can expire their sessions (item 8), with in-process members whose peer links
 * run through proxies.
 */
import { CreateFlags, ErrorCode, OpCode } from '../../protocol/jute/constants';
import { writeSyncRequest } from '../../protocol/jute/records';
import { WireClosedError, WireConnection } from '../../src/client/wire';
import { requests as rq } from '../../src/client/requests';
import { startInProcEnsemble } from '../harness/ensemble';
import { fourLetter } from '../harness/cli';

/**
 * A session on `port`, retried while the member turns clients away: with tickTime 200 and an 800 ms
 * session floor, a member starved of CPU for a fifth of a second rightly stops serving until its
 * next round trip with the leader (seen on the busy CI machine as "closed during handshake").
 */
async function connect(port: number, o: Partial<Parameters<typeof WireConnection.connect>[0]> = {}): Promise<WireConnection> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return await WireConnection.connect({ host: '127.0.0.1', port, sessionTimeoutMs: 6000, ...o });
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`no session on port ${port} within 20 s: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Polls `probe` every 50 ms until it returns true; fails saying what was awaited. */
async function until(what: string, timeoutMs: number, probe: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const learners = async (port: number): Promise<number> => Number(/^zk_learners\t(\d+)$/m.exec(await fourLetter(port, 'mntr'))?.[1] ?? -1);

describe('silent departures', () => {
  test('a learner that goes silent is dropped by the leader within a bounded time', async () => {
    // tickTime 100, syncLimit 10: a silent learner must be gone well within a few syncLimits.
    const ens = await startInProcEnsemble(3, {}, { proxied: true });
    try {
      const leader = await ens.waitServing();
      const victim = (leader + 1) % 3;
      expect(await learners(ens.clientPorts[leader])).toBe(2);
      ens.cut(leader, victim);
      await until('the leader to drop the silent learner', 5000, async () => (await learners(ens.clientPorts[leader])) === 1);
      // The leader still has a quorum and keeps serving writes.
      const c = await connect(ens.clientPorts[leader]);
      expect((await rq.create(c, '/after-silence', null)).err).toBe(ErrorCode.ok);
      c.close();
      ens.heal(leader, victim);
      await until('the learner to rejoin', 10_000, async () => (await learners(ens.clientPorts[leader])) === 2);
    } finally {
      await ens.close();
    }
  });

  test('a leader cut off from its quorum never answers sync from stale data', async () => {
    // A long syncLimit (2 s) gives the old leader a long window in which it still believes it leads.
    const ens = await startInProcEnsemble(3, {}, { proxied: true, ensemble: { syncLimit: 20 } });
    try {
      const old = await ens.waitServing();
      const [a, b] = [0, 1, 2].filter((i) => i !== old);
      const stale = await connect(ens.clientPorts[old]);
      expect((await rq.create(stale, '/x', Buffer.from('before'))).err).toBe(ErrorCode.ok);
      // Nobody tells the old leader anything: its links are cut silently, then both followers
      // restart (their closes never reach it) and elect a leader among themselves.
      ens.cut(old, a);
      ens.cut(old, b);
      await ens.stop(a);
      await ens.stop(b);
      await ens.start(a);
      await ens.start(b);
      await until('a new leader among the restarted followers', 10_000, () => [a, b].some((i) => ens.servers[i]?.mode === 'leader' && ens.servers[i]!.isServing));
      const fresh = await connect(ens.clientPorts[ens.servers[a]!.mode === 'leader' ? a : b]);
      expect((await rq.setData(fresh, '/x', Buffer.from('after'))).err).toBe(ErrorCode.ok);
      fresh.close();
      // sync + read on the old leader: either it fails, or it sees the acknowledged write.
      const outcome = await stale
        .request(OpCode.sync, (w) => writeSyncRequest(w, { path: '/x' }))
        .then(async () => `read ${(await rq.getData(stale, '/x')).body?.data?.toString()}`)
        .catch(() => 'sync failed');
      expect(['sync failed', 'read after']).toContain(outcome);
      stale.close();
    } finally {
      await ens.close();
    }
  });
});

describe('a follower cut off from its leader', () => {
  test('disconnects its clients before the leader can expire their sessions (no two lock holders)', async () => {
    // tickTime 200, minSessionTimeout 800: the leader may expire an idle session 800 ms after the
    // follower's last report; the follower must drop its clients well before (a quarter of 800 ms
    // after its last round trip with the leader). syncLimit 10 (2 s) is far longer: the follower
    // still believes it follows when the session could expire.
    const ens = await startInProcEnsemble(3, { tickTimeMs: 200, minSessionTimeoutMs: 800, maxSessionTimeoutMs: 8000 }, { proxied: true });
    try {
      const leader = await ens.waitServing();
      const follower = (leader + 1) % 3;
      // A member starved of CPU for a fifth of a second before the cut drops its clients (rightly):
      // set up again on fresh sessions and a fresh lock path (the dropped session's node expires).
      let attempt = 0;
      const setup = async (): Promise<{ holder: WireConnection; observer: WireConnection; lock: string }> => {
        for (;;) {
          const lock = `/lock-${attempt++}`;
          const holder = await connect(ens.clientPorts[follower], { sessionTimeoutMs: 800 });
          let observer: WireConnection | undefined;
          try {
            expect((await rq.create(holder, lock, null, CreateFlags.ephemeral)).err).toBe(ErrorCode.ok);
            observer = await connect(ens.clientPorts[leader]);
            expect((await rq.exists(observer, lock, true)).err).toBe(ErrorCode.ok);
            // Dropped while the observer was set up: its 'close' is already past, set up again.
            // From here to the listeners below nothing awaits, so no close can slip between.
            if (holder.isClosed) throw new WireClosedError('lock holder dropped during setup');
            return { holder, observer, lock };
          } catch (err) {
            holder.close();
            observer?.close();
            if (!(err instanceof WireClosedError) || attempt >= 20) throw err;
          }
        }
      };
      const { holder, observer, lock } = await setup();
      const order: string[] = [];
      const seen = new Promise<void>((resolve) => {
        const note = (what: string) => {
          if (!order.includes(what)) order.push(what);
          if (order.length === 2) resolve();
        };
        holder.once('close', () => note('lock holder disconnected'));
        observer.on('notification', (n: { path: string }) => n.path === lock && note('lock released by session expiry'));
      });
      // The holder keeps its session busy, as a lock holder's client library would.
      const pinger = setInterval(() => holder.ping().catch(() => undefined), 100);
      ens.cut(leader, follower);
      const bound = new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`waited 15 s for both events; saw ${JSON.stringify(order)}`)), 15_000));
      await Promise.race([seen, bound]);
      clearInterval(pinger);
      expect(order).toEqual(['lock holder disconnected', 'lock released by session expiry']);
      observer.close();
    } finally {
      await ens.close();
    }
  });
});
