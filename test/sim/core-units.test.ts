/** Proves the pure helpers of the quorum core: vote order, quorum arithmetic, log view, sync planning and timing. */
import fc from 'fast-check';
import { QuorumCore } from '../../src/quorum/core/core';
import { LogView, planSync } from '../../src/quorum/core/log';
import { compareVotes, quorumSize, quorumValue } from '../../src/quorum/core/vote';
import { isSuccessor, makeZxid } from '../../src/util/zxid';
import { CORE_TICK_MS_MIN, contactLimitMs, quorumTiming } from '../../src/quorum/core/timing';

const z = (e: number, c: number): bigint => makeZxid(e, BigInt(c));
const entries = (...zs: bigint[]) => zs.map((zxid) => ({ zxid, data: Buffer.from(zxid.toString(16)) }));

describe('vote order (peerEpoch, zxid, sid)', () => {
  it('compares epoch first, then zxid, then server id', () => {
    expect(compareVotes({ leader: 1, zxid: z(1, 9), peerEpoch: 2 }, { leader: 3, zxid: z(2, 1), peerEpoch: 1 })).toBe(1);
    expect(compareVotes({ leader: 1, zxid: z(2, 2), peerEpoch: 2 }, { leader: 3, zxid: z(2, 1), peerEpoch: 2 })).toBe(1);
    expect(compareVotes({ leader: 1, zxid: z(2, 1), peerEpoch: 2 }, { leader: 3, zxid: z(2, 1), peerEpoch: 2 })).toBe(-1);
  });

  it('is a total order (antisymmetric, transitive)', () => {
    const vote = fc.record({ leader: fc.integer({ min: 1, max: 5 }), zxid: fc.bigInt({ min: 0n, max: 1n << 40n }), peerEpoch: fc.integer({ min: 0, max: 5 }) });
    fc.assert(
      fc.property(vote, vote, vote, (a, b, c) => {
        expect(Math.sign(compareVotes(a, b))).toBe(-Math.sign(compareVotes(b, a)));
        if (compareVotes(a, b) > 0 && compareVotes(b, c) > 0) expect(compareVotes(a, c)).toBe(1);
      }),
    );
  });
});

describe('quorums', () => {
  it('are strict majorities', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(quorumSize)).toEqual([1, 2, 2, 3, 3, 4, 4]);
  });

  it('quorumValue is the largest value a quorum has reached', () => {
    expect(quorumValue([5n, 3n, 9n], 2)).toBe(5n);
    expect(quorumValue([5, 3], 3)).toBeUndefined();
  });
});

describe('LogView and successors', () => {
  it('rejects holes within an epoch and requires counter 1 in a new epoch', () => {
    expect(isSuccessor(z(1, 1), z(1, 2))).toBe(true);
    expect(isSuccessor(z(1, 1), z(1, 3))).toBe(false);
    expect(isSuccessor(z(1, 5), z(2, 1))).toBe(true);
    expect(isSuccessor(z(1, 5), z(2, 2))).toBe(false);
    expect(isSuccessor(z(2, 1), z(1, 9))).toBe(false);
  });

  it('summarises its history per epoch and truncates / compacts', () => {
    const log = new LogView(0n, entries(z(1, 1), z(1, 2), z(3, 1)));
    expect(log.history()).toEqual({ base: 0n, epochs: [{ epoch: 1, lastZxid: z(1, 2) }, { epoch: 3, lastZxid: z(3, 1) }] });
    log.truncateAfter(z(1, 1));
    expect(log.lastZxid()).toBe(z(1, 1));
    log.compact(z(1, 1));
    expect(log.base()).toBe(z(1, 1));
    expect(log.has(z(1, 1))).toBe(true);
    expect(log.lastInEpoch(1)).toBe(z(1, 1));
  });
});

describe('planSync', () => {
  const leader = new LogView(0n, entries(z(1, 1), z(1, 2), z(1, 3), z(2, 1), z(2, 2)));

  it('DIFFs a learner whose log is a prefix', () => {
    const h = new LogView(0n, entries(z(1, 1), z(1, 2))).history();
    expect(planSync(leader, h, z(1, 2))).toEqual({ mode: 'diff', from: z(1, 2) });
  });

  it('TRUNCs a learner with txns from an epoch the leader never saw', () => {
    const h = new LogView(0n, entries(z(1, 1), z(1, 2), z(1, 3), z(1, 4))).history();
    expect(planSync(leader, h, z(1, 4))).toEqual({ mode: 'trunc', to: z(1, 3) });
    const h2 = new LogView(0n, entries(z(1, 1), z(1, 2), z(4, 1))).history();
    expect(planSync(leader, h2, z(4, 1))).toEqual({ mode: 'trunc', to: z(1, 2) });
  });

  it('TRUNCs a learner ahead of the leader within the leader epoch', () => {
    const h = new LogView(0n, entries(z(1, 1), z(1, 2), z(1, 3), z(2, 1), z(2, 2), z(2, 3))).history();
    expect(planSync(leader, h, z(2, 3))).toEqual({ mode: 'trunc', to: z(2, 2) });
  });

  it('SNAPs when the common point was compacted away', () => {
    const compacted = new LogView(0n, entries(z(1, 1), z(1, 2), z(1, 3), z(2, 1), z(2, 2)));
    compacted.compact(z(2, 1));
    const h = new LogView(0n, entries(z(1, 1))).history();
    expect(planSync(compacted, h, z(1, 1))).toEqual({ mode: 'snap' });
    const fresh = new LogView(0n, []).history();
    expect(planSync(compacted, fresh, 0n)).toEqual({ mode: 'snap' });
  });

  it('DIFFs an empty learner from zero when nothing was compacted', () => {
    expect(planSync(leader, { base: 0n, epochs: [] }, 0n)).toEqual({ mode: 'diff', from: 0n });
  });
});

describe('quorumTiming (zoo.cfg limits -> core ticks)', () => {
  it('leaves a lease of at least 9 core ticks for every syncLimit ZooKeeper accepts, renewed 4 times', () => {
    for (const syncLimit of [1, 2, 5, 100]) {
      const t = quorumTiming({ tickTimeMs: 2000, initLimit: 5, syncLimit });
      // The lease lasts syncLimitTicks - 1 core ticks after the echoed PING left (core.ts leaseValid).
      expect(t.syncLimitTicks - 1).toBeGreaterThanOrEqual(9);
      expect((t.syncLimitTicks - 1) / t.pingIntervalTicks).toBeGreaterThanOrEqual(4);
      expect(t.syncLimitTicks * t.coreTickMs).toBe(syncLimit * 2000);
    }
  });

  it('drops a client of a cut-off follower while the leader still counts its session alive', () => {
    // contactLimitMs's arithmetic with the smallest session a server accepts by default (2 x tickTime).
    for (const tickTimeMs of [100, 2000]) {
      const t = quorumTiming({ tickTimeMs, initLimit: 5, syncLimit: 2 });
      const session = 2 * tickTimeMs;
      const g = t.coreTickMs;
      expect(t.pingIntervalTicks * g).toBeLessThanOrEqual(g);
      const dropBy = contactLimitMs(session) + 2 * g;
      const expiryNotBefore = session / 2 - g;
      expect(dropBy).toBeLessThan(expiryNotBefore);
    }
  });

  it('never counts a core tick shorter than CORE_TICK_MS_MIN, and refuses limits below 1', () => {
    expect(quorumTiming({ tickTimeMs: 1, initLimit: 1, syncLimit: 1 }).coreTickMs).toBe(CORE_TICK_MS_MIN);
    expect(() => quorumTiming({ tickTimeMs: 2000, initLimit: 5, syncLimit: 0 })).toThrow(/invalid/);
  });
});

describe('a one-voter core restarting on a long log', () => {
  it('commits 200k logged entries in one Ready (a spread of them overflowed the stack)', () => {
    const log = Array.from({ length: 200_000 }, (_, i) => ({ zxid: z(1, i + 1), data: Buffer.alloc(1) }));
    const core = new QuorumCore(
      { id: 1, voters: [1], observers: [], electionTimeoutTicks: 10, syncLimitTicks: 10, initLimitTicks: 10, pingIntervalTicks: 2, rng: { next: () => 0.5 } as never },
      { acceptedEpoch: 1, currentEpoch: 1, log, snapshotZxid: 0n },
      { hooks: { snapshot: () => ({ zxid: 0n, data: Buffer.alloc(0) }) } },
    );
    let committed = 0;
    for (let step = 0; step < 100 && committed < log.length; step++) {
      core.tick();
      while (core.hasReady()) {
        const r = core.ready();
        committed += r.committed.length;
        core.advance(r);
      }
    }
    expect(committed).toBe(log.length);
  });
});
