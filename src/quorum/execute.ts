import type { PeerMessage, PeerMessageType } from '../../protocol/peer/messages';
import type { Store } from '../storage/types';
import { decodeSnapshotRef } from '../storage/bodies';
import type { DurableState, Entry, Ready, Role, RoleEvent } from './core';
import { zxidHex } from '../util/zxid';

/**
 * The one executor of a Ready. Production's ZabReplicator, the simulator (which runs the
 * production server) and the single-core transcript tests (test/sim/lib/transcript.ts, over the
 * memory store) call `executeReady`, so the order of the steps — and every exception to it —
 * exists once:
 *
 *  1. persist: one atomic store unit (`persistReady`), then load a SNAP'ed state into the server;
 *  2. send the messages (per destination FIFO), unless the policy let them leave before step 1;
 *  3. close the connections the core dropped;
 *  4. apply the committed entries, in order;
 *  5. report role changes, forwarded requests, sync answers, errors and notes.
 *
 * The caller then calls `core.advance(ready)`. Step 4 may be spread over several event-loop turns
 * (`writeReady`, `afterDurable`, then `finishReady`); the Ready is finished, and the core advanced, only after its last
 * committed entry is applied, and no later Ready starts before that. When step 1's fsync runs on
 * the thread pool (`writeReady` with `offLoop`, production's default), step 4 starts right after
 * the write for the committed entries durable before this Ready (holding them back would leave
 * this server behind what the leader's COMMIT has already shown elsewhere); steps 2–3
 * (`afterDurable`), the committed entries this Ready writes itself (applying one replies to its
 * write) and step 5 wait for the fsync.
 */

/**
 * When a Ready's messages may leave before its own persist: a leader's broadcast traffic, as in
 * ZooKeeper and Raft (a leader sends PROPOSALs while it logs them; the core counts its own ACK only
 * after `advance`, i.e. once durable). A Ready that changes an epoch, truncates or installs a
 * snapshot, or carries any other message (an ACK above all: it means "on disk"), persists first.
 * Data, so that the one exception is stated in one place.
 */
export interface SendPolicy {
  roles: ReadonlySet<Role>;
  messageTypes: ReadonlySet<PeerMessageType>;
}

export const SEND_BEFORE_PERSIST: SendPolicy = {
  roles: new Set(['leading']),
  messageTypes: new Set(['proposal', 'commit', 'ping', 'inform', 'heartbeat', 'sync']),
};

/**
 * Test-only switches planting known bugs in the shell, so the simulator can prove it catches them.
 * Never set outside tests.
 */
export interface ShellBugs {
  /** A SNAP install as separate store writes: truncation, snapshot, then entries (the pre-issue-9 order). */
  snapSeparateTransactions?: boolean;
  /** Every server's ACKs (and everything else) leave before its fsync. */
  ackBeforeFsync?: boolean;
  /** A follower applies a PROPOSAL as soon as it logs it, before the COMMIT. */
  proposalAppliedBeforeCommit?: boolean;
  /** Followers expire sessions from their own view of the clients and tell the leader to close them. */
  followerExpiresSessions?: boolean;
  /** The reply to a write leaves before the watch events it triggers. */
  watchAfterReply?: boolean;
  /** A learner tells a client its resumed session is live before the leader confirmed it (no Learner.validateSession). */
  followerAnswersBeforeRevalidation?: boolean;
  /**
   * A new leader applies the txns of older epochs that it commits on establishing the epoch only
   * when its next write commits (a lazy recovery): its followers deliver them first.
   */
  leaderAppliesRecoveredLate?: boolean;
}

/** ackBeforeFsync: the policy with no exception left. */
const EVERYTHING_EARLY: SendPolicy = {
  roles: new Set(['leading', 'following', 'observing', 'looking']),
  messageTypes: new Set(['notification', 'followerinfo', 'observerinfo', 'leaderinfo', 'ackepoch', 'diff', 'trunc', 'snap', 'newleader', 'uptodate', 'proposal', 'ack', 'commit', 'inform', 'ping', 'request', 'revalidate', 'sync', 'heartbeat']),
};

export function sendPolicy(bugs: ShellBugs = {}): SendPolicy {
  return bugs.ackBeforeFsync ? EVERYTHING_EARLY : SEND_BEFORE_PERSIST;
}

export function sendsBeforePersist(r: Ready, role: Role, policy: SendPolicy): boolean {
  if (r.messages.length === 0 || !policy.roles.has(role)) return false;
  if (policy !== EVERYTHING_EARLY && (r.hardState || r.snapshot || r.truncateAfter !== undefined)) return false;
  return r.messages.every((m) => policy.messageTypes.has(m.msg.type));
}

/**
 * What a core starts from: only what the store made durable (the inverse of `persistReady`), so a
 * restart after any crash point sees exactly what survived.
 */
export function durableStateOf(store: Store, appliedZxid?: bigint): DurableState {
  const snapshotZxid = store.latestSnapshot()?.zxid ?? 0n;
  const { acceptedEpoch, currentEpoch } = store.hardState();
  return { acceptedEpoch, currentEpoch, log: store.readLog(snapshotZxid), snapshotZxid, appliedZxid };
}

/** Where each step of a Ready goes. */
export interface ReadyTarget {
  store: Store;
  send(to: number, msg: PeerMessage): void;
  /** Push queued sends to the network now. */
  flush(): void;
  disconnect(peer: number): void;
  /** A SNAP replaced our state; it is already durable. */
  installSnapshot(zxid: bigint, data: Buffer): void;
  applyCommitted(entries: readonly Entry[]): void;
  onRoleEvent(ev: RoleEvent): void;
  onForwarded(from: number, msg: PeerMessage): void;
  onSyncAnswer(zxid: bigint): void;
  /** Protocol violations (warn) and notes (info). */
  log(level: 'warn' | 'info', text: string, fields?: Record<string, unknown>): void;
  /** Logged but not yet committed entries (test-only: proposalAppliedBeforeCommit). */
  applyLogged?(entries: readonly Entry[]): void;
  /** Input the core dropped on purpose (statistics, transcripts). */
  onIgnored?(ignored: Ready['ignored']): void;
}

/**
 * Step 1 of a Ready: one atomic store unit. A SNAP's body was written as it arrived
 * (server/snapsync.ts) and its data names that body; naming it, the synced entries and the epochs
 * become durable together or not at all (issue 9 item 2).
 */
export function persistReady(store: Store, r: Ready, bugs: ShellBugs = {}): void {
  const snapshot = r.snapshot && { zxid: r.snapshot.zxid, ...decodeSnapshotRef(r.snapshot.data) };
  if (bugs.snapSeparateTransactions && snapshot) {
    // Planted: the pre-issue-9 order, each step its own transaction. A crash between them leaves
    // a log truncated below txns this follower had already acknowledged.
    if (store.lastZxid() > snapshot.zxid) store.persist({ truncateAfter: snapshot.zxid });
    store.persist({ snapshot });
    if (r.hardState || r.entries.length > 0) store.persist({ hardState: r.hardState, entries: r.entries });
    return;
  }
  if (snapshot || r.hardState || r.truncateAfter !== undefined || r.entries.length > 0) {
    store.persist({ snapshot, hardState: r.hardState, truncateAfter: r.truncateAfter, entries: r.entries });
  }
}

/**
 * All five steps in one turn, the fsync inline. A caller that applies step 4 in slices across
 * event-loop turns (ZabReplicator) calls `writeReady` and, once durable, `afterDurable`; then
 * `applyCommitted` per slice in zxid order, then `finishReady`.
 */
export function executeReady(r: Ready, role: Role, t: ReadyTarget, policy: SendPolicy = SEND_BEFORE_PERSIST, bugs: ShellBugs = {}): void {
  const early = writeReady(r, role, t, policy, bugs, false, () => undefined);
  afterDurable(r, role, t, early, bugs);
  if (r.committed.length > 0) t.applyCommitted(r.committed);
  finishReady(r, t);
}

/**
 * Step 1's write, with the wait for the disk off the event loop where it can be (`offLoop`,
 * docs/log-writer.md): a Ready that only
 * appends entries is written now and `durable` called once the store has synced it (a later turn);
 * anything else (epochs, TRUNC, a SNAP install, the planted separate-transactions order) is one
 * synchronous durable unit as before, and `durable` is called before this returns. Returns whether
 * the messages left early (pass it to `afterDurable`).
 */
export function writeReady(r: Ready, role: Role, t: ReadyTarget, policy: SendPolicy, bugs: ShellBugs, offLoop: boolean, durable: (err?: Error) => void): boolean {
  const early = startReady(r, role, t, policy);
  if (offLoop && !r.snapshot && !r.hardState && r.truncateAfter === undefined && r.entries.length > 0 && !bugs.snapSeparateTransactions) {
    t.store.persistWritten({ entries: r.entries }, durable);
  } else {
    persistReady(t.store, r, bugs);
    durable();
  }
  return early;
}

function startReady(r: Ready, role: Role, t: ReadyTarget, policy: SendPolicy): boolean {
  const early = sendsBeforePersist(r, role, policy);
  if (r.truncateAfter !== undefined && r.truncateAfter < t.store.lastZxid()) {
    t.log('warn', 'truncating txns the new leader does not have (TRUNC)', { after: zxidHex(r.truncateAfter), last: zxidHex(t.store.lastZxid()) });
  }
  if (early) {
    for (const m of r.messages) t.send(m.to, m.msg);
    t.flush();
  }
  return early;
}

/** The rest of steps 1–3, once the Ready's writes are durable: only now may an ACK leave. */
export function afterDurable(r: Ready, role: Role, t: ReadyTarget, early: boolean, bugs: ShellBugs = {}): void {
  if (r.snapshot) t.installSnapshot(r.snapshot.zxid, r.snapshot.data);
  if (bugs.proposalAppliedBeforeCommit && role === 'following' && r.entries.length > 0) t.applyLogged?.(r.entries);
  if (!early) for (const m of r.messages) t.send(m.to, m.msg);
  for (const peer of r.disconnect) t.disconnect(peer);
}

/** Step 5 of a Ready, once every committed entry is applied: role changes and sync answers see the applied state. */
export function finishReady(r: Ready, t: ReadyTarget): void {
  for (const ev of r.roleEvents) t.onRoleEvent(ev);
  for (const f of r.forwarded) t.onForwarded(f.from, f.msg);
  for (const z of r.syncs) t.onSyncAnswer(z);
  for (const e of r.errors) t.log('warn', 'peer protocol violation', { error: e });
  for (const n of r.notes) t.log('info', n);
  if (r.ignored.length > 0) t.onIgnored?.(r.ignored);
}
