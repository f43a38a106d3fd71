/** The whole-server seed ranges `npm test` runs, split across files so jest's two workers share them. */
import { FAULT_KINDS, runSeed, type SimStats } from './sim';

/** Whole-server seeds per CI run (SERVER_SIM_SEEDS overrides), split in halves by two test files. */
export const SERVER_SEEDS = Number(process.env.SERVER_SIM_SEEDS ?? 1000);
export const SERVER_FIRST_SEED = Number(process.env.SERVER_SIM_FIRST_SEED ?? 1);
const CHUNK = 25;
/** Generous: a chunk takes ~5 s of CPU, but CI machines are shared and busy (no timing assertions). */
const CHUNK_TIMEOUT_MS = 600_000;

/**
 * Runs `half` (0 or 1) of the CI range in chunks of 25, then checks that every fault kind and every
 * sync mode occurred in it: a range that never exercised SNAP, say, proves nothing about it.
 */
export function describeSeedHalf(half: 0 | 1): void {
  const mid = SERVER_FIRST_SEED + Math.ceil(SERVER_SEEDS / 2);
  const first = half === 0 ? SERVER_FIRST_SEED : mid;
  const end = half === 0 ? mid : SERVER_FIRST_SEED + SERVER_SEEDS;
  const stats: SimStats[] = [];
  for (let start = first; start < end; start += CHUNK) {
    const last = Math.min(start + CHUNK, end) - 1;
    it(`seeds ${start}..${last} keep safety and converge after healing`, async () => {
      for (let seed = start; seed <= last; seed++) {
        const r = await runSeed({ seed });
        stats.push(r.stats);
        if (!r.ok) throw new Error(`seed ${seed}: ${r.failure}\nreplay: npm run sim -- --seed ${seed}`);
      }
    }, CHUNK_TIMEOUT_MS);
  }
  it(`seeds ${first}..${end - 1} exercised every fault kind and every sync mode`, () => {
    if (end - first < 200) return; // a small SERVER_SIM_SEEDS range need not cover everything
    const faults = new Set(stats.flatMap((s) => Object.keys(s.faults)));
    expect([...faults].sort()).toEqual([...FAULT_KINDS].sort());
    const sum = (f: (s: SimStats) => number) => stats.reduce((n, s) => n + f(s), 0);
    expect(sum((s) => s.syncs.diff)).toBeGreaterThan(0);
    expect(sum((s) => s.syncs.trunc)).toBeGreaterThan(0);
    expect(sum((s) => s.syncs.snap)).toBeGreaterThan(0);
    expect(sum((s) => s.crashesMidBatch)).toBeGreaterThan(0);
    expect(sum((s) => s.sessionExpiries)).toBeGreaterThan(0);
    expect(sum((s) => s.watchEvents)).toBeGreaterThan(0);
    expect(sum((s) => s.elections)).toBeGreaterThan(0);
  });
}
