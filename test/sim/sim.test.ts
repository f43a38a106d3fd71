/** Proves the quorum core keeps every ZAB invariant over many seeded fault schedules and recovers after healing. */
import { runSeed } from './lib/sim';

const SEEDS = Number(process.env.SIM_SEEDS ?? 1200);
const FIRST = Number(process.env.SIM_FIRST_SEED ?? 1);
const CHUNK = 250;

describe('deterministic simulation', () => {
  for (let start = FIRST; start < FIRST + SEEDS; start += CHUNK) {
    const end = Math.min(start + CHUNK, FIRST + SEEDS) - 1;
    it(`seeds ${start}..${end} keep safety and converge after healing`, () => {
      for (let seed = start; seed <= end; seed++) {
        const r = runSeed({ seed });
        if (!r.ok) throw new Error(`seed ${seed}: ${r.failure}\nreplay: npm run sim -- --seed ${seed}`);
      }
    });
  }

  // Issue 9 item 1: ZooKeeper's Getting Started config (initLimit=5, syncLimit=2) and the smallest
  // limits it accepts. The leader must keep its lease and the ensemble its leader once healthy.
  for (const limits of [{ syncLimit: 2, initLimit: 5 }, { syncLimit: 1, initLimit: 1 }, { syncLimit: 1, initLimit: 10 }]) {
    it(`syncLimit=${limits.syncLimit} initLimit=${limits.initLimit}: seeds keep safety, converge and keep one leader`, () => {
      for (let seed = 1; seed <= 100; seed++) {
        const r = runSeed({ seed, limits });
        if (!r.ok) throw new Error(`seed ${seed} (${JSON.stringify(limits)}): ${r.failure}`);
      }
    });
  }

  it('counter exhaustion forces a new epoch instead of wrapping the zxid (ZOOKEEPER-1277)', () => {
    let elections = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const r = runSeed({ seed, counterMax: 4n, limits: { syncLimit: 1, initLimit: 2 } });
      if (!r.ok) throw new Error(`seed ${seed} (counterMax 4): ${r.failure}`);
      elections += r.stats.elections;
    }
    // Each epoch holds at most 4 txns, so the leader had to step down and re-elect many times.
    expect(elections).toBeGreaterThan(1000);
  });

  it('is deterministic: the same seed gives the same trace', () => {
    const a = runSeed({ seed: 4242, trace: true });
    const b = runSeed({ seed: 4242, trace: true });
    expect(a.trace).toEqual(b.trace);
    expect(a.stats).toEqual(b.stats);
    expect(a.trace.length).toBeGreaterThan(20);
  });

  it('exercises elections, every sync mode and client writes across seeds', () => {
    let elections = 0;
    let acked = 0;
    const faults = new Set<string>();
    for (let seed = 1; seed <= 50; seed++) {
      const r = runSeed({ seed });
      elections += r.stats.elections;
      acked += r.stats.writesAcked;
      r.stats.faults.forEach((f) => faults.add(f));
    }
    expect(elections).toBeGreaterThan(50);
    expect(acked).toBeGreaterThan(1000);
    expect([...faults].sort()).toEqual(['compact', 'crash', 'crashAll', 'failpoint', 'isolateLeader', 'oneway', 'partition', 'pause', 'reset', 'silent']);
  });
});
