/** Proves that a member applying a large committed batch (a DIFF at sync, a restarted member catching up) a few txns per event-loop turn keeps every invariant and ends byte-for-byte equal to the others. */
import { runSeed, type SimStats } from './lib/sim';

/** Seeds 1..40 (SLICE_SIM_SEEDS overrides), each with a few txns per turn: one, two, three or five. */
const SEEDS = Number(process.env.SLICE_SIM_SEEDS ?? 40);
const SLICES = [1, 2, 3, 5];

describe('whole-server simulation with committed txns applied across turns', () => {
  const stats: SimStats[] = [];
  it(`seeds 1..${SEEDS} keep safety and converge after healing`, async () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const applySliceTxns = SLICES[seed % SLICES.length];
      const r = await runSeed({ seed, applySliceTxns });
      stats.push(r.stats);
      if (!r.ok) throw new Error(`seed ${seed} (applySliceTxns ${applySliceTxns}): ${r.failure}`);
    }
  }, 600_000);

  it('applied batches part-way, yielded, and resumed, during DIFF syncs and catch-up', () => {
    const sum = (f: (s: SimStats) => number) => stats.reduce((n, s) => n + f(s), 0);
    expect(sum((s) => s.applyYields)).toBeGreaterThan(0);
    expect(sum((s) => s.syncs.diff)).toBeGreaterThan(0);
  });
});
