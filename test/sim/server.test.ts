/** Proves the production server (ZkServer with injected I/O) keeps ZAB's and the client's invariants over seeded fault schedules, and that a seed replays exactly. */
import { runSeed } from './lib/sim';

const SEEDS = Number(process.env.SERVER_SIM_SEEDS ?? 20);
const FIRST = Number(process.env.SERVER_SIM_FIRST_SEED ?? 1);
const CHUNK = 50;

describe('whole-server simulation', () => {
  for (let start = FIRST; start < FIRST + SEEDS; start += CHUNK) {
    const end = Math.min(start + CHUNK, FIRST + SEEDS) - 1;
    it(`seeds ${start}..${end} keep safety and converge after healing`, async () => {
      for (let seed = start; seed <= end; seed++) {
        const r = await runSeed({ seed });
        if (!r.ok) throw new Error(`seed ${seed}: ${r.failure}\nreplay: npm run sim -- --seed ${seed}`);
      }
    });
  }

  it('is deterministic: the same seed gives the same trace', async () => {
    const a = await runSeed({ seed: 4242, trace: true });
    const b = await runSeed({ seed: 4242, trace: true });
    expect(a.trace).toEqual(b.trace);
    expect(a.stats).toEqual(b.stats);
    expect(a.trace.length).toBeGreaterThan(20);
  });
});
