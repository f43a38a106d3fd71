/** Proves the production server (ZkServer with injected I/O) keeps ZAB's and the client's invariants over the first half of the CI seed range, covers every fault and sync mode, and replays a seed exactly. */
import { runSeed } from './lib/sim';
import { describeSeedHalf } from './lib/seeds';

describe('whole-server simulation (first half)', () => {
  describeSeedHalf(0);

  it('is deterministic: the same seed gives the same trace', async () => {
    const a = await runSeed({ seed: 4242, trace: true });
    const b = await runSeed({ seed: 4242, trace: true });
    expect(a.trace).toEqual(b.trace);
    expect(a.stats).toEqual(b.stats);
    expect(a.trace.length).toBeGreaterThan(20);
  });
});
