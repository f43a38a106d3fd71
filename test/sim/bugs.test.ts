/** Proves the simulator has teeth: each planted historic bug is caught within a fixed seed budget. */
import type { PlantedBugs } from '../../src/quorum/core/types';
import { runSeed } from './lib/sim';

const BUDGET = 200;

function firstFailure(bugs: PlantedBugs): { seed: number; failure: string } | undefined {
  for (let seed = 1; seed <= BUDGET; seed++) {
    const r = runSeed({ seed, bugs });
    if (!r.ok) return { seed, failure: r.failure! };
  }
  return undefined;
}

describe('planted bugs are caught', () => {
  it('(a) ACK before persist', () => {
    const f = firstFailure({ ackBeforePersist: true });
    expect(f).toBeDefined();
    expect(f!.failure).toMatch(/persist-before-ACK/);
  });

  it('(b) currentEpoch persisted before the synced history on NEWLEADER', () => {
    const f = firstFailure({ epochBeforeHistory: true });
    expect(f).toBeDefined();
    expect(f!.failure).toMatch(/persist-before-ACK|Z9/);
  });

  it('(c) a stale leader keeps serving after losing its quorum', () => {
    const f = firstFailure({ staleLeader: true });
    expect(f).toBeDefined();
    expect(f!.failure).toMatch(/stale read|liveness/);
  });

  it('the replay of a failing seed fails the same way', () => {
    const f = firstFailure({ staleLeader: true })!;
    const again = runSeed({ seed: f.seed, bugs: { staleLeader: true }, trace: true });
    expect(again.failure).toBe(f.failure);
    expect(again.trace[again.trace.length - 1]).toContain('VIOLATION');
  });
});

/**
 * Without the direct persist-before-ACK checker, crash failpoints plus the end-to-end checks
 * (primary integrity, prefix consistency, lost acknowledged writes) still find both persistence bugs.
 */
describe('planted persistence bugs are caught end to end', () => {
  function firstEndToEnd(bugs: PlantedBugs, budget: number): string | undefined {
    for (let seed = 1; seed <= budget; seed++) {
      const r = runSeed({ seed, bugs, endToEndOnly: true, faultTicks: 300, livenessTicks: 250 });
      if (!r.ok) return `seed ${seed}: ${r.failure}`;
    }
    return undefined;
  }

  it('(a) ACK before persist loses a committed txn', () => {
    expect(firstEndToEnd({ ackBeforePersist: true }, 400)).toMatch(/Z12|Z11|prefix|integrity|ShouldNotBeTriggered/);
  });

  it('(b) currentEpoch before history lets a server without committed txns lead', () => {
    expect(firstEndToEnd({ epochBeforeHistory: true }, 1500)).toMatch(/Z12|Z11|prefix|integrity|ShouldNotBeTriggered/);
  });

  it('the correct core passes the same end-to-end budget', () => {
    expect(firstEndToEnd({}, 100)).toBeUndefined();
  });
});
