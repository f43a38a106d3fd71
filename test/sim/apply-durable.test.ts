/** Proves a member applies a committed txn (and so replies to its write) only once its own disk has it, with the txn-log fsync off the event loop, on the seeds that caught it applying earlier. */
import { runSeed } from './lib/sim';

// Each seed failed the simulator's applied-before-fsync check (sim.ts checkAppliedDurable) while a
// follower applied the committed txns of a Ready (a PROPOSAL and its COMMIT read in one turn, or
// held while its previous fsync ran) before that Ready's own fsync returned.
const SEEDS = [2, 4, 6];

describe('applied only once durable here', () => {
  it.each(SEEDS)('seed %d (fsync off the loop)', async (seed) => {
    const r = await runSeed({ seed, fsyncOffLoop: true });
    expect(r.failure).toBeUndefined();
  }, 120_000);
});
