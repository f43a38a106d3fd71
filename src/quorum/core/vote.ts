import type { ServerState, Vote } from '../../../protocol/peer/messages';

/**
 * FLE's total order on votes (FastLeaderElection.tla `TotalOrderPredicate`): the higher
 * peerEpoch wins, then the higher zxid, then the higher server id. Positive when a > b.
 */
export function compareVotes(a: Vote, b: Vote): number {
  if (a.peerEpoch !== b.peerEpoch) return a.peerEpoch > b.peerEpoch ? 1 : -1;
  if (a.zxid !== b.zxid) return a.zxid > b.zxid ? 1 : -1;
  if (a.leader !== b.leader) return a.leader > b.leader ? 1 : -1;
  return 0;
}

export function sameVote(a: Vote, b: Vote): boolean {
  return a.leader === b.leader && a.zxid === b.zxid && a.peerEpoch === b.peerEpoch;
}

/** Strict majority of the voting members. */
export function quorumSize(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

export interface RecordedVote {
  vote: Vote;
  state: ServerState;
  round: number;
}

/**
 * Voters in `set` that back `vote`. A server that is no longer looking reports the leader it
 * follows and that leader's epoch; zxids differ between servers that joined at different times,
 * so for them only (leader, peerEpoch) must match (as ZooKeeper's Vote.equals does).
 */
export function supporters(set: ReadonlyMap<number, RecordedVote>, vote: Vote, voters: ReadonlySet<number>): number {
  let n = 0;
  for (const [sid, r] of set) {
    if (!voters.has(sid)) continue;
    const ok = r.state === 'looking' ? sameVote(r.vote, vote) : r.vote.leader === vote.leader && r.vote.peerEpoch === vote.peerEpoch;
    if (ok) n++;
  }
  return n;
}

/**
 * The quorum-th highest value among `values` (one per voter that counts, including the leader
 * itself): the largest x such that a quorum has reached at least x. Used for commit points and
 * for the leader's lease.
 */
export function quorumValue<T extends number | bigint>(values: T[], quorum: number): T | undefined {
  if (values.length < quorum) return undefined;
  const sorted = [...values].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
  return sorted[quorum - 1];
}
