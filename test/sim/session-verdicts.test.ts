/** Proves a server tells a client its session expired only when the session's close is committed or proposed, on the seeds that caught it saying so of live sessions. */
import { runSeed } from './lib/sim';

// Each seed failed the simulator's told-expired check before its fix; the schedules are those of
// the inline fsync (fsyncOffLoop off), so a later change to the server may move them elsewhere.
const CASES = [
  // A learner refused a resumed session from its own view: SNAP'ed, its expiry tracker had never
  // heard of the session (now the leader decides, as ZooKeeper's Learner.validateSession).
  { seed: 34, fsyncOffLoop: false },
  // A restarted member minted a live session's id again (its log, replayed only after the sync,
  // held the first createSession): the second createSession replaced the first one's password.
  { seed: 61, fsyncOffLoop: false },
];

describe('session verdicts', () => {
  it.each(CASES)('seed $seed (fsyncOffLoop $fsyncOffLoop) keeps every session a client was told about', async (c) => {
    const r = await runSeed(c);
    expect(r.failure).toBeUndefined();
  }, 120_000);
});
