import net from 'node:net';
import pino from 'pino';
import { OpCode } from '../../protocol/jute/constants';
import { writeExistsRequest } from '../../protocol/jute/records';
import { Housekeeping, type HousekeepingHost } from '../../src/server/housekeeping';
import { defaultServerOptions } from '../../src/server/options';
import { ServerStats } from '../../src/server/stats';
import { ServerMetrics } from '../../src/metrics/hub';
import { SessionTracker } from '../../src/session';
import { createDatabase } from '../../src/tree';
import { createMemoryStore } from '../../src/storage';
import { ClientConnection } from '../../src/server/connection';
import { startInProc } from '../harness/inproc';
import { turnCounter } from '../harness/wait';
import { systemClock } from '../../src/util/clock';
import { systemRng } from '../../src/util/rng';

/**
 * Work that grows with the data is done a bounded slice per event-loop turn (issue 12): 10k
 * sessions expiring at once, and a wchp listing tens of thousands of watches, both leave the
 * event loop turning while they run.
 */

describe('bounded background work', () => {
  test('10k sessions expiring together are closed at most 500 per turn', async () => {
    const sessions = new SessionTracker({ tickTimeMs: 10 });
    for (let i = 1; i <= 10_000; i++) sessions.add(BigInt(i), 20, 0);
    const counter = turnCounter();
    const perTurn = new Map<number, number>();
    const host: HousekeepingHost = {
      options: defaultServerOptions({ dataDir: '/nonexistent' }),
      sessions,
      db: createDatabase(),
      store: createMemoryStore(),
      logger: pino({ level: 'silent' }),
      stats: new ServerStats(),
      metrics: new ServerMetrics(Date.now()),
      // Every session is long overdue by this clock.
      clock: { ...systemClock, now: () => systemClock.now() + 1_000_000 },
      rng: systemRng,
      canPropose: () => true,
      expireSession: () => perTurn.set(counter.turns(), (perTurn.get(counter.turns()) ?? 0) + 1),
      snapshotSaved: () => undefined,
      submitInternalWrite: () => undefined,
    };
    const hk = new Housekeeping(host) as unknown as { expireSessions(): Promise<void> };
    const realNow = Date.now;
    Date.now = () => realNow() + 1_000_000; // every session is long overdue
    try {
      await hk.expireSessions();
    } finally {
      Date.now = realNow;
      counter.stop();
    }
    expect([...perTurn.values()].reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(500);
    expect(perTurn.size).toBeGreaterThanOrEqual(20);
  });

  test('wchp over 20k watches is written a slice per turn and lists every watch', async () => {
    // A long session: 20k pipelined requests on a busy machine can take longer than the 4 s default
    // allows, and this test is about how wchp is written, not about expiry.
    const srv = await startInProc({ maxSessionTimeoutMs: 60_000 });
    try {
      const c = await srv.connect({ sessionTimeoutMs: 60_000 });
      const paths = Array.from({ length: 20_000 }, (_, i) => `/absent/w${i}`);
      // exists() on an absent node leaves a data watch.
      await Promise.all(paths.map((path) => c.request(OpCode.exists, (w) => writeExistsRequest(w, { path, watch: true }))));
      const counter = turnCounter();
      // Which turns the server wrote the answer in.
      const writeTurns = new Set<number>();
      const writeRaw = ClientConnection.prototype.writeRaw;
      ClientConnection.prototype.writeRaw = function (this: ClientConnection, bytes: Buffer | string) {
        writeTurns.add(counter.turns());
        return writeRaw.call(this, bytes);
      };
      const answer = await new Promise<string>((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port: srv.port }, () => s.write('wchp'));
        let out = '';
        s.on('data', (d) => (out += d.toString()));
        s.on('end', () => resolve(out));
        s.on('error', reject);
      });
      ClientConnection.prototype.writeRaw = writeRaw;
      counter.stop();
      const listed = answer.split('\n').filter((l) => l.startsWith('/absent/'));
      expect(listed).toHaveLength(20_000);
      expect(answer.split('\n').filter((l) => l.startsWith('\t0x'))).toHaveLength(20_000);
      expect(writeTurns.size).toBeGreaterThan(3); // written over several turns, not rendered in one
      c.close();
    } finally {
      await srv.stop();
    }
  });
});
