import type { LogHistory, MessageOf, PeerMessage, ServerState, Vote } from '../../../protocol/peer/messages';
import { COUNTER_MAX, counterOf, epochOf, isSuccessor, nextZxid } from '../../util/zxid';
import { type Entry, LogView, planSync } from './log';
import {
  type CoreOptions,
  type DurableState,
  type HardState,
  type Phase,
  type PlantedBugs,
  type QuorumConfig,
  type Ready,
  type Role,
  emptyReady,
} from './types';
import { type RecordedVote, compareVotes, quorumSize, quorumValue, sameVote, supporters } from './vote';

/** @internal Leader-side view of one learner connection. */
export interface LearnerHandle {
  sid: number;
  observer: boolean;
  /** info: FOLLOWERINFO seen; epochSent: LEADERINFO sent; acked: ACKEPOCH seen; syncing: NEWLEADER sent; active: NEWLEADER acked. */
  stage: 'info' | 'epochSent' | 'acked' | 'syncing' | 'active';
  acceptedEpoch: number;
  currentEpoch: number;
  lastZxid: bigint;
  history: LogHistory;
  /** Highest zxid this learner has durably logged (cumulative ACK). */
  ackedZxid: bigint;
  /** Highest PING round this learner echoed back. */
  echoRound: number;
  /** Tick at which the leader sent that round: the start of this learner's lease contribution. */
  leaseTick: number;
  /** Observers: commits up to here were covered by the sync or INFORMed; INFORM the rest. */
  syncedTo: bigint;
  /** The zxid in the NEWLEADER we sent: the learner's NEWLEADER ACK must echo it. */
  newLeaderZxid: bigint;
}

/** @internal */
export interface LeaderState {
  phase: 'discovery' | 'epochAck' | 'sync' | 'broadcast';
  epoch: number;
  startTick: number;
  learners: Map<number, LearnerHandle>;
  nextPingTick: number;
  /** Last PING round sent, and when each recent round left (older ones cannot renew the lease). */
  round: number;
  roundTicks: Map<number, number>;
  /** syncs waiting for a quorum to echo `round` (a round sent after they arrived), in arrival order. */
  syncs: Array<{ to: number | undefined; zxid: bigint; round: number }>;
}

/** @internal */
export interface SyncBuffer {
  snapshot?: { zxid: bigint; data: Buffer };
  truncateAfter?: bigint;
  /** What the log's last zxid will be once the buffer is applied. */
  last: bigint;
  entries: Entry[];
}

/** @internal */
export interface LearnerState {
  leader: number;
  observer: boolean;
  phase: 'connecting' | 'discovery' | 'sync' | 'synced' | 'broadcast';
  epoch: number;
  startTick: number;
  lastHeard: number;
  buf: SyncBuffer | undefined;
  /** When our NEWLEADER ACK left; the UPTODATE that answers it confirms a round trip from then. */
  ackTick: number;
  /** Send tick of each recent echo, by round, until the leader confirms one (PING.echoed). */
  echoSent: Map<number, number>;
  /** Send tick of the newest echo the leader confirmed it received. */
  contactTick: number;
}

/** Persistence the planted bugs hold back until the next Ready. */
interface Deferred {
  snapshot?: { zxid: bigint; data: Buffer };
  truncateAfter?: bigint;
  entries: Entry[];
}

/** A protocol violation by the peer: drop the connection and resync (Zab.tla ShouldNotBeTriggered). */
class ProtocolViolation extends Error {}

/**
 * One server's Fast Leader Election + ZAB 1.0 state machine. Pure: no clock (time is `tick()`
 * calls), no I/O, randomness only from `cfg.rng`. Inputs are tick / step / propose / peerUp /
 * peerDown / compact; output is `ready()`, acknowledged with `advance()` once the shell has
 * persisted, sent and applied it.
 */
export class QuorumCore {
  private readonly voters: ReadonlySet<number>;
  private readonly observers: ReadonlySet<number>;
  private readonly quorum: number;
  private readonly isObserver: boolean;
  private readonly bugs: PlantedBugs;
  private readonly counterMax: bigint;

  private now = 0;
  private acceptedEpoch: number;
  private currentEpoch: number;
  /** What is on disk once every Ready handed out so far is advanced. */
  private stable: HardState & { lastZxid: bigint };
  private readonly log: LogView;
  private committedZxid: bigint;
  private readonly connected = new Set<number>();
  /** Per connected peer: when we last heard anything from it, and last sent it anything. */
  private readonly lastRecv = new Map<number, number>();
  private readonly lastSent = new Map<number, number>();

  private role: Role = 'looking';
  private round = 0;
  private vote: Vote;
  private readonly recv = new Map<number, RecordedVote>();
  private readonly outOfElection = new Map<number, RecordedVote>();
  private nextNotifyTick = 0;

  private lead: LeaderState | undefined;
  private learn: LearnerState | undefined;
  /** FOLLOWERINFOs that arrived while we were still looking (their sender decided first). */
  private readonly earlyInfos = new Map<number, MessageOf<'followerinfo' | 'observerinfo'>>();

  private pending: Ready = emptyReady();
  /** False when the pending Ready only holds deferred (bug-planted) persistence. */
  private pendingReal = false;
  private deferred: Deferred = { entries: [] };

  constructor(
    private readonly cfg: QuorumConfig,
    durable: DurableState,
    private readonly opts: CoreOptions = {},
  ) {
    this.voters = new Set(cfg.voters);
    this.observers = new Set(cfg.observers);
    this.quorum = quorumSize(this.voters.size);
    this.isObserver = this.observers.has(cfg.id);
    if (!this.isObserver && !this.voters.has(cfg.id)) throw new Error(`server ${cfg.id} is neither voter nor observer`);
    if (durable.currentEpoch > durable.acceptedEpoch) throw new Error('currentEpoch > acceptedEpoch on disk');
    this.bugs = opts.bugs ?? {};
    this.counterMax = cfg.counterMax ?? COUNTER_MAX;
    this.acceptedEpoch = durable.acceptedEpoch;
    this.currentEpoch = durable.currentEpoch;
    const base = durable.snapshotZxid ?? 0n;
    this.log = new LogView(base, durable.log);
    this.stable = { acceptedEpoch: this.acceptedEpoch, currentEpoch: this.currentEpoch, lastZxid: this.log.lastZxid() };
    this.committedZxid = durable.appliedZxid ?? base;
    this.vote = this.selfVote();
    this.becomeLooking();
  }

  // ---------------------------------------------------------------- queries

  get id(): number {
    return this.cfg.id;
  }

  status(): {
    role: Role;
    phase: Phase;
    leader: number | undefined;
    epoch: number;
    acceptedEpoch: number;
    currentEpoch: number;
    lastZxid: bigint;
    /** Last zxid of this server's log that the shell has made durable (advance()d). */
    loggedZxid: bigint;
    committedZxid: bigint;
    round: number;
    tick: number;
  } {
    return {
      role: this.role,
      phase: this.phase(),
      leader: this.lead ? this.cfg.id : this.learn?.leader,
      epoch: this.lead?.epoch ?? this.learn?.epoch ?? this.currentEpoch,
      acceptedEpoch: this.acceptedEpoch,
      currentEpoch: this.currentEpoch,
      lastZxid: this.log.lastZxid(),
      loggedZxid: this.stable.lastZxid,
      committedZxid: this.committedZxid,
      round: this.round,
      tick: this.now,
    };
  }

  /**
   * Core ticks since this server last had proof that its leader hears it: for a learner in
   * broadcast, since it sent the newest echo its leader confirmed (PING.echoed) — everything it sent
   * before, its clients' session touches included, reached the leader. 0 for an established
   * leader; Infinity otherwise. The server disconnects a client once this exceeds a quarter of the
   * client's session timeout (quorumTiming explains why), long before the leader could expire it.
   */
  contactAge(): number {
    if (this.lead) return this.lead.phase === 'broadcast' ? 0 : Infinity;
    const l = this.learn;
    return l && l.phase === 'broadcast' ? this.now - l.contactTick : Infinity;
  }

  /** Leader only: each learner's sync stage and durable position (for srvr/mntr), else undefined. */
  learnerStatus(): { sid: number; observer: boolean; stage: LearnerHandle['stage']; ackedZxid: bigint }[] | undefined {
    if (!this.lead) return undefined;
    return [...this.lead.learners.values()].map((h) => ({ sid: h.sid, observer: h.observer, stage: h.stage, ackedZxid: h.ackedZxid }));
  }

  /** Whether `zxid` is in our history (logged, or the snapshot point). */
  hasLogged(zxid: bigint): boolean {
    return this.log.has(zxid) || (zxid < this.log.base() && zxid >= 0n);
  }

  /** Entries in (after, upTo] of the in-memory log (the shell may use it for diagnostics). */
  logSlice(after: bigint, upTo?: bigint): Entry[] {
    return this.log.slice(after, upTo);
  }

  /** True while this server is an established leader that may propose. */
  canPropose(): boolean {
    return this.nextZxid() !== undefined;
  }

  /**
   * True while this server is an established leader whose lease is still valid: no other leader
   * can have committed anything yet, so its state includes every acknowledged write (Z13).
   */
  canServeReads(): boolean {
    if (this.lead?.phase !== 'broadcast') return false;
    return this.bugs.staleLeader === true || this.leaseValid();
  }

  // ---------------------------------------------------------------- inputs

  tick(): void {
    this.now++;
    if (this.role === 'looking') this.tickLooking();
    else if (this.lead) this.tickLeader(this.lead);
    else if (this.learn) this.tickLearner(this.learn);
    this.tickPeers();
  }

  peerUp(peer: number): void {
    if (!this.isMember(peer) || peer === this.cfg.id) return;
    // A new connection replaces the old one: whatever that peer told us before is stale (it may
    // have restarted and forgotten it followed us), so it is forgotten first.
    if (this.connected.has(peer)) this.lose(peer);
    this.connected.add(peer);
    this.lastRecv.set(peer, this.now);
    this.lastSent.set(peer, this.now);
    if (this.role === 'looking' && this.wantsNotifications(peer)) this.sendNotification(peer);
    const l = this.learn;
    if (l && l.leader === peer && l.phase === 'connecting') this.sendLearnerInfo(l);
  }

  peerDown(peer: number): void {
    if (this.connected.has(peer)) this.lose(peer);
  }

  step(from: number, msg: PeerMessage): void {
    if (!this.isMember(from) || from === this.cfg.id) return this.ignore(from, msg, 'not a member');
    if (this.connected.has(from)) this.lastRecv.set(from, this.now);
    try {
      this.dispatch(from, msg);
    } catch (e) {
      if (!(e instanceof ProtocolViolation)) throw e;
      this.pending.errors.push(`from ${from}: ${e.message}`);
      this.onViolation(from);
    }
  }

  /**
   * The zxid the next `propose` will use — decided here only; the server bakes it into the txn
   * before encoding it. Undefined unless this server is an established leader with counter left.
   */
  nextZxid(): bigint | undefined {
    const lead = this.lead;
    if (!lead || lead.phase !== 'broadcast') return undefined;
    return nextZxid(this.log.lastZxid(), lead.epoch, this.counterMax);
  }

  /** Leader only: log a new txn and broadcast it. Returns its zxid (`nextZxid()`), or undefined if not leading. */
  propose(data: Buffer): bigint | undefined {
    const lead = this.lead;
    const zxid = this.nextZxid();
    if (!lead || zxid === undefined) return undefined;
    const entry = { zxid, data };
    this.log.append(entry);
    this.queueEntries([entry]);
    // One message object for every learner: the transport encodes a message once however many
    // peers it goes to (PeerTransport's last-encoded memo).
    const proposal: PeerMessage = { type: 'proposal', zxid, data };
    for (const h of lead.learners.values()) {
      if (!h.observer && (h.stage === 'syncing' || h.stage === 'active')) this.send(h.sid, proposal);
    }
    // The counter is used up: the next zxid would wrap into the epoch bits, so a new epoch — a new
    // election — is needed (ZOOKEEPER-1277). This proposal goes out first, like any other.
    if (counterOf(zxid) >= this.counterMax) this.stepDown();
    return zxid;
  }

  /**
   * Leader only: a client of this server asked for `sync`. The answer (in `Ready.syncs`) is the
   * zxid proposed so far, given only once a quorum has echoed a PING round sent after this call:
   * each echo proves its sender still followed us after the request, and any newer leader needs one
   * of them, so no other leader can have committed anything before the request (ZOOKEEPER-1675).
   * A deposed leader never gets those echoes, so it never answers from stale data. False when not
   * an established leader.
   */
  requestSync(): boolean {
    const lead = this.lead;
    if (!lead || lead.phase !== 'broadcast') return false;
    this.queueSync(lead, undefined);
    return true;
  }

  /**
   * Learner only: send a REQUEST / REVALIDATE / SYNC to the leader over the quorum connection, in
   * order with the core's own messages. False when there is no synced leader to send to.
   */
  sendToLeader(msg: MessageOf<'request' | 'revalidate' | 'sync'>): boolean {
    const l = this.learn;
    if (!l || (l.phase !== 'synced' && l.phase !== 'broadcast') || !this.connected.has(l.leader)) return false;
    this.send(l.leader, msg);
    return true;
  }

  /** Leader only: answer a learner's REVALIDATE. False when `sid` is not a synced learner. */
  sendToLearner(sid: number, msg: MessageOf<'revalidate'>): boolean {
    const h = this.lead?.learners.get(sid);
    if (!h || (h.stage !== 'syncing' && h.stage !== 'active')) return false;
    this.send(sid, msg);
    return true;
  }

  /** The shell saved a snapshot at `zxid` (<= applied): entries up to it may leave memory. */
  compact(zxid: bigint): void {
    if (zxid > this.committedZxid) throw new Error('compact beyond the committed zxid');
    this.log.compact(zxid);
  }

  // ---------------------------------------------------------------- output

  hasReady(): boolean {
    return this.pendingReal;
  }

  ready(): Ready {
    // syncs that arrived since the last round get one round for all of them, sent now.
    const lead = this.lead;
    if (lead && lead.syncs.length > 0 && lead.syncs[lead.syncs.length - 1]!.round > lead.round) {
      this.sendPingRound(lead);
    }
    const r = this.pending;
    this.pending = emptyReady();
    this.pendingReal = false;
    // Planted bugs: what was held back goes out with the next Ready, after its ACK already left.
    const d = this.deferred;
    if (d.snapshot || d.truncateAfter !== undefined || d.entries.length > 0) {
      this.deferred = { entries: [] };
      if (d.snapshot) this.queueSnapshot(d.snapshot, false);
      if (d.truncateAfter !== undefined) this.queueTruncate(d.truncateAfter, false);
      this.queueEntries(d.entries, false);
    }
    return r;
  }

  /** The shell has persisted, sent and applied `r`. */
  advance(r: Ready): void {
    if (r.snapshot) this.stable.lastZxid = r.snapshot.zxid;
    if (r.truncateAfter !== undefined && r.truncateAfter < this.stable.lastZxid) this.stable.lastZxid = r.truncateAfter;
    const n = r.entries.length;
    if (n > 0) this.stable.lastZxid = r.entries[n - 1]!.zxid;
    if (r.hardState) this.stable = { ...r.hardState, lastZxid: this.stable.lastZxid };
    const lead = this.lead;
    if (!lead) return;
    // The leader counts itself only once its own writes are durable.
    if (lead.phase === 'epochAck') this.maybeStartSync(lead);
    if (lead.phase === 'sync') this.maybeEstablish(lead);
    if (lead.phase === 'broadcast') this.leaderTryCommit(lead);
  }

  // ---------------------------------------------------------------- pending-Ready builders

  private send(to: number, msg: PeerMessage): void {
    if (!this.connected.has(to)) return;
    if (msg.type === 'ack' && !msg.newLeader && this.coalesceAck(to, msg)) return;
    this.pending.messages.push({ to, msg });
    this.lastSent.set(to, this.now);
    this.pendingReal = true;
  }

  /**
   * ACKs are cumulative (the leader keeps each follower's highest), so when the last message this
   * Ready holds for `to` is an ACK, the new one replaces it: a follower that logs a batch of
   * PROPOSALs in one Ready acks once, for the last, and the leader then commits and sends COMMIT once
   * per batch instead of once per txn. Same place in `to`'s FIFO, same Ready, so still sent only
   * after the entries are durable (Z9).
   */
  private coalesceAck(to: number, msg: MessageOf<'ack'>): boolean {
    const queued = this.pending.messages;
    for (let i = queued.length - 1; i >= 0; i--) {
      const q = queued[i]!;
      if (q.to !== to) continue;
      if (q.msg.type !== 'ack' || q.msg.newLeader || q.msg.zxid >= msg.zxid) return false;
      q.msg = msg;
      return true;
    }
    return false;
  }

  /** Input dropped on purpose: reported in the Ready, so nothing vanishes silently. */
  private ignore(from: number, msg: PeerMessage, why: string): void {
    this.pending.ignored.push({ from, type: msg.type, why });
    this.pendingReal = true;
  }

  /** Close the connection to `peer` (the caller deals with what that peer meant to us). */
  private disconnect(peer: number): void {
    if (!this.forget(peer)) return;
    this.pending.disconnect.push(peer);
    this.pendingReal = true;
  }

  /** Drop per-connection state; false if `peer` was not connected. */
  private forget(peer: number): boolean {
    if (!this.connected.delete(peer)) return false;
    // Its SYNCs came over that connection; answers must not reach a later one.
    const lead = this.lead;
    if (lead) lead.syncs = lead.syncs.filter((x) => x.to !== peer);
    this.earlyInfos.delete(peer);
    this.recv.delete(peer);
    this.outOfElection.delete(peer);
    this.lastRecv.delete(peer);
    this.lastSent.delete(peer);
    return true;
  }

  /** The connection to `peer` is gone (closed by it, by the network, or replaced). */
  private lose(peer: number): void {
    this.forget(peer);
    if (this.learn && this.learn.leader === peer) return this.abandonLeader();
    const lead = this.lead;
    if (lead && lead.learners.delete(peer)) {
      if (lead.phase === 'broadcast' && !this.leaseValid() && !this.bugs.staleLeader) this.stepDown();
    }
  }

  /**
   * Link liveness. Anything received resets a peer's timer: syncLimit between a leader and its
   * synced learners (the learner side is tickLearner's), initLimit while discovering or syncing,
   * and the larger of the two on every other link. A peer silent for longer — SIGSTOPped, behind a
   * DROP rule, or gone without a FIN — is disconnected; idle links carry a HEARTBEAT every third of
   * syncLimit so that only a truly silent peer times out.
   */
  private tickPeers(): void {
    const beat = Math.max(1, Math.floor(this.cfg.syncLimitTicks / 3));
    for (const peer of [...this.connected]) {
      if (!this.connected.has(peer)) continue;
      if (this.now - (this.lastRecv.get(peer) ?? this.now) >= this.peerTimeout(peer)) {
        this.pending.notes.push(`n${peer} silent for ${this.now - this.lastRecv.get(peer)!} ticks: disconnected`);
        this.disconnect(peer);
        this.lose(peer);
        continue;
      }
      if (this.now - (this.lastSent.get(peer) ?? this.now) >= beat) this.send(peer, { type: 'heartbeat' });
    }
  }

  private peerTimeout(peer: number): number {
    const { syncLimitTicks: sync, initLimitTicks: init } = this.cfg;
    if (this.learn?.leader === peer) return Infinity; // tickLearner: syncLimit or initLimit
    const h = this.lead?.learners.get(peer);
    if (h) return h.stage === 'active' ? sync : init;
    return Math.max(sync, init);
  }

  private queueHardState(): void {
    this.pending.hardState = { acceptedEpoch: this.acceptedEpoch, currentEpoch: this.currentEpoch };
    this.pendingReal = true;
  }

  private queueEntries(entries: readonly Entry[], real = true): void {
    if (entries.length === 0) return;
    appendAll(this.pending.entries, entries);
    if (real) this.pendingReal = true;
  }

  private queueTruncate(z: bigint, real = true): void {
    const p = this.pending;
    p.entries = p.entries.filter((e) => e.zxid <= z);
    p.truncateAfter = p.truncateAfter === undefined || z < p.truncateAfter ? z : p.truncateAfter;
    if (real) this.pendingReal = true;
  }

  private queueSnapshot(s: { zxid: bigint; data: Buffer }, real = true): void {
    const p = this.pending;
    p.snapshot = s;
    p.entries = [];
    p.truncateAfter = undefined;
    // The snapshot supersedes anything not yet applied.
    p.committed = [];
    if (real) this.pendingReal = true;
  }

  private roleEvent(): void {
    this.pending.roleEvents.push({
      role: this.role,
      phase: this.phase(),
      leader: this.lead ? this.cfg.id : this.learn?.leader,
      epoch: this.lead?.epoch ?? this.learn?.epoch ?? this.currentEpoch,
      tick: this.now,
    });
    this.pendingReal = true;
  }

  /** Deliver every logged entry up to `z` (capped at what we have) as committed, in zxid order. */
  private commitTo(z: bigint): void {
    const upTo = z < this.log.lastZxid() ? z : this.log.lastZxid();
    if (upTo <= this.committedZxid) return;
    const from = this.committedZxid > this.log.base() ? this.committedZxid : this.log.base();
    const entries = this.log.slice(from, upTo);
    appendAll(this.pending.committed, entries);
    this.committedZxid = upTo;
    this.pendingReal = true;
  }

  // ---------------------------------------------------------------- dispatch

  private isMember(sid: number): boolean {
    return this.voters.has(sid) || this.observers.has(sid);
  }

  private phase(): Phase {
    if (this.lead) return this.lead.phase === 'epochAck' ? 'discovery' : this.lead.phase;
    if (this.learn) {
      const p = this.learn.phase;
      return p === 'connecting' ? 'discovery' : p === 'synced' ? 'sync' : p;
    }
    return 'election';
  }

  private dispatch(from: number, msg: PeerMessage): void {
    switch (msg.type) {
      case 'notification':
        return this.onNotification(from, msg);
      case 'followerinfo':
      case 'observerinfo':
      case 'ackepoch':
      case 'ack':
        return this.onLearnerMessage(from, msg);
      case 'ping':
      case 'sync':
        if (this.lead) return this.onLearnerMessage(from, msg);
        return this.onLeaderMessage(from, msg);
      case 'heartbeat':
        return; // its arrival already reset the link's timer
      case 'request':
      case 'revalidate':
        this.pending.forwarded.push({ from, msg });
        this.pendingReal = true;
        return;
      default:
        return this.onLeaderMessage(from, msg);
    }
  }

  private onViolation(from: number): void {
    if (this.learn && this.learn.leader === from) return this.abandonLeader();
    if (this.lead) this.lead.learners.delete(from);
    this.disconnect(from);
  }

  // ================================================================ election (FLE)

  private selfVote(): Vote {
    return { leader: this.cfg.id, zxid: this.log.lastZxid(), peerEpoch: this.currentEpoch };
  }

  private stateName(): ServerState {
    return this.role;
  }

  private wantsNotifications(peer: number): boolean {
    // Voters talk to voters; a looking observer asks voters, who answer with their state.
    return this.voters.has(peer);
  }

  private sendNotification(to: number): void {
    this.send(to, { type: 'notification', vote: this.advertisedVote(), round: this.round, state: this.stateName() });
  }

  /** Once out of the election we advertise the leader and the epoch it is establishing. */
  private advertisedVote(): Vote {
    const epoch = this.lead?.epoch ?? this.learn?.epoch;
    return epoch === undefined ? this.vote : { leader: this.vote.leader, zxid: this.vote.zxid, peerEpoch: epoch };
  }

  private broadcastNotification(): void {
    for (const p of this.connected) if (this.wantsNotifications(p)) this.sendNotification(p);
    this.nextNotifyTick = this.now + this.electionTimeout();
  }

  private electionTimeout(): number {
    const t = this.cfg.electionTimeoutTicks;
    return t + Math.floor(this.cfg.rng.next() * t);
  }

  private becomeLooking(): void {
    this.role = 'looking';
    this.lead = undefined;
    this.learn = undefined;
    this.round++;
    this.recv.clear();
    this.outOfElection.clear();
    this.vote = this.isObserver ? { leader: -1, zxid: 0n, peerEpoch: -1 } : this.selfVote();
    if (!this.isObserver) this.recv.set(this.cfg.id, { vote: this.vote, state: 'looking', round: this.round });
    this.roleEvent();
    this.broadcastNotification();
    if (!this.isObserver) this.checkElection();
  }

  private tickLooking(): void {
    if (this.now >= this.nextNotifyTick) this.broadcastNotification();
  }

  private onNotification(from: number, n: MessageOf<'notification'>): void {
    if (this.role !== 'looking') {
      // Late joiners learn the established leader from us.
      if (n.state === 'looking') this.sendNotification(from);
      else this.ignore(from, n, 'out of the election');
      return;
    }
    if (!this.voters.has(from)) {
      if (!this.isObserver && n.state === 'looking') this.sendNotification(from);
      else this.ignore(from, n, 'not a voter');
      return;
    }
    if (this.isObserver) return this.observerNotification(from, n);
    if (n.state === 'looking') this.lookingNotification(from, n);
    else this.establishedNotification(from, n);
  }

  private lookingNotification(from: number, n: MessageOf<'notification'>): void {
    if (n.round > this.round) {
      this.round = n.round;
      this.recv.clear();
      const mine = this.selfVote();
      this.vote = compareVotes(n.vote, mine) > 0 ? n.vote : mine;
      this.recv.set(this.cfg.id, { vote: this.vote, state: 'looking', round: this.round });
      this.broadcastNotification();
    } else if (n.round < this.round) {
      this.sendNotification(from);
      return;
    } else if (compareVotes(n.vote, this.vote) > 0) {
      this.vote = n.vote;
      this.recv.set(this.cfg.id, { vote: this.vote, state: 'looking', round: this.round });
      this.broadcastNotification();
    } else if (!sameVote(n.vote, this.vote)) {
      this.sendNotification(from);
    }
    this.recv.set(from, { vote: n.vote, state: n.state, round: n.round });
    this.checkElection();
  }

  private checkElection(): void {
    if (supporters(this.recv, this.vote, this.voters) >= this.quorum) this.decide(this.vote);
  }

  private establishedNotification(from: number, n: MessageOf<'notification'>): void {
    const rec: RecordedVote = { vote: n.vote, state: n.state, round: n.round };
    if (n.round === this.round) {
      this.recv.set(from, rec);
      if (supporters(this.recv, n.vote, this.voters) >= this.quorum && this.leaderConfirmed(this.recv, n.vote)) {
        return this.decide(n.vote);
      }
    }
    this.outOfElection.set(from, rec);
    if (supporters(this.outOfElection, n.vote, this.voters) >= this.quorum && this.leaderConfirmed(this.outOfElection, n.vote)) {
      this.round = n.round;
      this.decide(n.vote);
    }
  }

  private observerNotification(from: number, n: MessageOf<'notification'>): void {
    if (n.state === 'looking') return this.ignore(from, n, 'observers follow established leaders only');
    this.outOfElection.set(from, { vote: n.vote, state: n.state, round: n.round });
    if (supporters(this.outOfElection, n.vote, this.voters) >= this.quorum && this.leaderConfirmed(this.outOfElection, n.vote)) {
      this.round = n.round;
      this.decide(n.vote);
    }
  }

  /** Joining an established leader needs the leader's own word that it leads (ZK's checkLeader). */
  private leaderConfirmed(set: ReadonlyMap<number, RecordedVote>, vote: Vote): boolean {
    if (vote.leader === this.cfg.id) return false;
    const l = set.get(vote.leader);
    return l !== undefined && l.state === 'leading' && l.vote.leader === vote.leader && l.vote.peerEpoch === vote.peerEpoch;
  }

  private decide(vote: Vote): void {
    this.vote = vote;
    if (vote.leader === this.cfg.id) this.becomeLeader();
    else this.becomeLearner(vote.leader);
  }

  // ================================================================ leader

  private becomeLeader(): void {
    this.role = 'leading';
    this.learn = undefined;
    const lead: LeaderState = {
      phase: 'discovery',
      epoch: this.acceptedEpoch,
      startTick: this.now,
      learners: new Map(),
      nextPingTick: 0,
      round: 0,
      roundTicks: new Map(),
      syncs: [],
    };
    this.lead = lead;
    this.roleEvent();
    const early = [...this.earlyInfos];
    this.earlyInfos.clear();
    for (const [sid, msg] of early) {
      if (this.connected.has(sid)) this.onLearnerInfo(lead, sid, msg);
    }
    if (lead.phase === 'discovery') this.maybeChooseEpoch(lead);
  }

  private stepDown(): void {
    const lead = this.lead;
    if (lead) for (const sid of lead.learners.keys()) this.disconnect(sid);
    this.becomeLooking();
  }

  private tickLeader(lead: LeaderState): void {
    if (lead.phase !== 'broadcast') {
      if (this.now - lead.startTick >= this.cfg.initLimitTicks) return this.stepDown();
    } else if (!this.leaseValid() && !this.bugs.staleLeader) {
      return this.stepDown();
    }
    // Ping from the sync phase on, so the lease is fresh the moment the leader is established.
    if (lead.phase !== 'broadcast' && lead.phase !== 'sync') return;
    if (this.now >= lead.nextPingTick) this.sendPingRound(lead);
  }

  /** One lease round: a PING to every learner past NEWLEADER; each echo renews that learner's part of the lease. */
  private sendPingRound(lead: LeaderState): void {
    lead.round++;
    lead.roundTicks.set(lead.round, this.now);
    // Rounds sent a syncLimit ago can no longer renew the lease (Map keeps insertion order).
    for (const [r, t] of lead.roundTicks) {
      if (this.now - t <= this.cfg.syncLimitTicks) break;
      lead.roundTicks.delete(r);
    }
    lead.nextPingTick = this.now + (this.cfg.pingIntervalTicks ?? 1);
    for (const h of lead.learners.values()) {
      if (h.stage === 'syncing' || h.stage === 'active') this.send(h.sid, { type: 'ping', round: lead.round, echoed: h.echoRound });
    }
  }

  private onEcho(lead: LeaderState, from: number, msg: MessageOf<'ping'>): void {
    const h = lead.learners.get(from);
    if (!h || msg.round <= h.echoRound || msg.round > lead.round) return this.ignore(from, msg, 'stale or unknown PING round');
    h.echoRound = msg.round;
    const sent = lead.roundTicks.get(msg.round);
    if (sent !== undefined && sent > h.leaseTick) h.leaseTick = sent;
    this.answerSyncs(lead);
  }

  private queueSync(lead: LeaderState, to: number | undefined): void {
    lead.syncs.push({ to, zxid: this.log.lastZxid(), round: lead.round + 1 });
    this.pendingReal = true; // ready() sends the round
    this.answerSyncs(lead);
  }

  /** A learner's SYNC: served like our own clients' syncs, answered with a SYNC in FIFO order. */
  private onLearnerSync(lead: LeaderState, from: number): void {
    const h = lead.learners.get(from);
    // It can only send SYNC after our NEWLEADER, which we send from the sync phase on.
    if (!h || (h.stage !== 'syncing' && h.stage !== 'active')) throw new ProtocolViolation('SYNC from a learner that is not synced');
    this.queueSync(lead, from);
  }

  /** Answer every sync whose round a quorum (the leader included) has echoed, in order. */
  private answerSyncs(lead: LeaderState): void {
    if (lead.phase !== 'broadcast' || lead.syncs.length === 0) return;
    const echoes = [Infinity];
    for (const h of lead.learners.values()) if (!h.observer && h.stage === 'active') echoes.push(h.echoRound);
    const confirmed = quorumValue(echoes, this.quorum) ?? -1;
    while (lead.syncs.length > 0 && lead.syncs[0]!.round <= confirmed) {
      const s = lead.syncs.shift()!;
      if (s.to === undefined) {
        this.pending.syncs.push(s.zxid);
        this.pendingReal = true;
      } else {
        this.send(s.to, { type: 'sync', zxid: s.zxid });
      }
    }
  }

  /**
   * The leader may act as leader while a quorum (itself included) echoed one of its pings sent
   * fewer than syncLimit-1 ticks ago. Followers wait syncLimit ticks after the *receipt* of the
   * last leader message before they give up, so the lease always ends first.
   */
  private leaseValid(): boolean {
    const lead = this.lead;
    if (!lead) return false;
    const ticks = [this.now];
    for (const h of lead.learners.values()) if (!h.observer && h.stage === 'active') ticks.push(h.leaseTick);
    const q = quorumValue(ticks, this.quorum);
    return q !== undefined && this.now - q < this.cfg.syncLimitTicks - 1;
  }

  private onLearnerMessage(from: number, msg: PeerMessage): void {
    const lead = this.lead;
    if (!lead) {
      if (msg.type !== 'followerinfo' && msg.type !== 'observerinfo') return this.ignore(from, msg, 'not leading');
      // A learner may decide before we do; keep its info until our own election ends.
      if (this.role === 'looking') this.earlyInfos.set(from, msg);
      else this.disconnect(from); // someone thinks we lead; we don't: make them look again
      return;
    }
    switch (msg.type) {
      case 'followerinfo':
      case 'observerinfo':
        return this.onLearnerInfo(lead, from, msg);
      case 'ackepoch':
        return this.onAckEpoch(lead, from, msg);
      case 'ack':
        return this.onAck(lead, from, msg);
      case 'ping':
        return this.onEcho(lead, from, msg);
      case 'sync':
        return this.onLearnerSync(lead, from);
      default:
        return this.ignore(from, msg, 'a leader does not take this from a learner');
    }
  }

  private onLearnerInfo(lead: LeaderState, from: number, msg: MessageOf<'followerinfo' | 'observerinfo'>): void {
    const observer = msg.type === 'observerinfo';
    if (observer !== this.observers.has(from)) throw new ProtocolViolation('learner type does not match the config');
    const h: LearnerHandle = {
      sid: from,
      observer,
      stage: 'info',
      acceptedEpoch: msg.acceptedEpoch,
      currentEpoch: -1,
      lastZxid: msg.lastZxid,
      history: { base: 0n, epochs: [] },
      ackedZxid: 0n,
      echoRound: 0,
      leaseTick: -1,
      syncedTo: 0n,
      newLeaderZxid: -1n,
    };
    if (!observer && lead.phase !== 'discovery' && msg.acceptedEpoch > lead.epoch) {
      // This voter accepted a newer epoch (from a leader that never got established) and will
      // refuse ours. ZooKeeper leaves it out until the next election; we step down so that the
      // next epoch, chosen above its acceptedEpoch, includes it and every server converges.
      this.disconnect(from);
      return this.stepDown();
    }
    lead.learners.set(from, h);
    if (lead.phase === 'discovery') this.maybeChooseEpoch(lead);
    else this.sendLeaderInfo(lead, h);
  }

  private countVoters(lead: LeaderState, ok: (h: LearnerHandle) => boolean): number {
    let n = 1; // the leader itself
    for (const h of lead.learners.values()) if (!h.observer && ok(h)) n++;
    return n;
  }

  /** Discovery: with a quorum of FOLLOWERINFO, pick an epoch above every acceptedEpoch seen (Z3). */
  private maybeChooseEpoch(lead: LeaderState): void {
    if (this.countVoters(lead, () => true) < this.quorum) return;
    let max = this.acceptedEpoch;
    for (const h of lead.learners.values()) if (h.acceptedEpoch > max) max = h.acceptedEpoch;
    lead.epoch = max + 1;
    lead.phase = 'epochAck';
    this.acceptedEpoch = lead.epoch;
    this.queueHardState();
    this.roleEvent();
    for (const h of lead.learners.values()) this.sendLeaderInfo(lead, h);
  }

  private sendLeaderInfo(lead: LeaderState, h: LearnerHandle): void {
    if (h.stage !== 'info') return;
    h.stage = 'epochSent';
    this.send(h.sid, { type: 'leaderinfo', epoch: lead.epoch });
  }

  private onAckEpoch(lead: LeaderState, from: number, msg: MessageOf<'ackepoch'>): void {
    const h = lead.learners.get(from);
    if (!h || h.stage !== 'epochSent') throw new ProtocolViolation('unexpected ACKEPOCH');
    // A voter with a more recent history than ours means FLE picked the wrong leader: give up
    // rather than lose its txns (ZK's "leader is behind" check, Z12).
    if (!h.observer && this.isBehind(msg.currentEpoch, msg.lastZxid)) return this.stepDown();
    h.stage = 'acked';
    h.currentEpoch = msg.currentEpoch;
    h.lastZxid = msg.lastZxid;
    h.history = msg.history;
    if (lead.phase === 'epochAck') this.maybeStartSync(lead);
    // Observers only ever hold committed txns: sync them once the leader has committed its history.
    else if (!h.observer || lead.phase === 'broadcast') this.syncLearner(lead, h);
  }

  private isBehind(theirEpoch: number, theirZxid: bigint): boolean {
    if (theirEpoch !== this.currentEpoch) return theirEpoch > this.currentEpoch;
    return theirZxid > this.log.lastZxid();
  }

  private maybeStartSync(lead: LeaderState): void {
    if (this.stable.acceptedEpoch !== lead.epoch) return;
    if (this.countVoters(lead, (h) => h.stage === 'acked') < this.quorum) return;
    lead.phase = 'sync';
    this.currentEpoch = lead.epoch;
    this.queueHardState();
    this.roleEvent();
    for (const h of lead.learners.values()) if (h.stage === 'acked' && !h.observer) this.syncLearner(lead, h);
  }

  /**
   * Synchronization: DIFF, TRUNC+DIFF or SNAP, the missing proposals, then NEWLEADER. From now on
   * the learner is in the forwarding set, so it gets every later PROPOSAL/COMMIT (issues.md #1).
   * Observers only receive committed txns.
   */
  private syncLearner(lead: LeaderState, h: LearnerHandle): void {
    const upTo = h.observer ? this.committedZxid : this.log.lastZxid();
    const plan = planSync(this.log, h.history, h.lastZxid);
    let from: bigint;
    if (plan.mode === 'snap' || (plan.mode === 'trunc' && plan.to > upTo) || (plan.mode === 'diff' && plan.from > upTo)) {
      const snap = this.takeSnapshot();
      this.send(h.sid, { type: 'snap', zxid: snap.zxid, data: snap.data });
      from = snap.zxid;
    } else if (plan.mode === 'diff') {
      this.send(h.sid, { type: 'diff', zxid: plan.from });
      from = plan.from;
    } else {
      this.send(h.sid, { type: 'trunc', zxid: plan.to });
      from = plan.to;
    }
    for (const e of this.log.slice(from, upTo)) this.send(h.sid, { type: 'proposal', zxid: e.zxid, data: e.data });
    const last = from > upTo ? from : upTo;
    this.send(h.sid, { type: 'newleader', epoch: lead.epoch, zxid: last });
    h.stage = 'syncing';
    h.syncedTo = last;
    h.newLeaderZxid = last;
    h.leaseTick = this.now;
  }

  private takeSnapshot(): { zxid: bigint; data: Buffer } {
    const snap = this.opts.hooks?.snapshot?.();
    if (!snap) throw new Error('SNAP sync needed but no snapshot hook was given');
    if (snap.zxid < this.log.base() || snap.zxid > this.committedZxid) throw new Error('snapshot zxid outside the log');
    return snap;
  }

  private onAck(lead: LeaderState, from: number, msg: MessageOf<'ack'>): void {
    const h = lead.learners.get(from);
    if (!h) throw new ProtocolViolation('ACK from an unknown learner');
    if (msg.newLeader) {
      if (h.stage !== 'syncing' || msg.zxid !== h.newLeaderZxid) throw new ProtocolViolation('unexpected NEWLEADER ACK');
      h.stage = 'active';
      h.ackedZxid = msg.zxid;
      if (lead.phase === 'sync') return this.maybeEstablish(lead);
      this.send(h.sid, { type: 'uptodate', zxid: this.committedZxid });
      return this.leaderTryCommit(lead);
    }
    if (h.stage !== 'active' || h.observer) throw new ProtocolViolation('ACK before NEWLEADER ACK');
    if (msg.zxid > this.log.lastZxid()) throw new ProtocolViolation('ACK for an unknown zxid');
    if (msg.zxid > h.ackedZxid) h.ackedZxid = msg.zxid;
    this.leaderTryCommit(lead);
  }

  /** A quorum (self included, once currentEpoch is durable) acked NEWLEADER: commit the history, serve. */
  private maybeEstablish(lead: LeaderState): void {
    if (this.stable.currentEpoch !== lead.epoch) return;
    if (this.countVoters(lead, (h) => h.stage === 'active') < this.quorum) return;
    lead.phase = 'broadcast';
    lead.nextPingTick = this.now;
    this.roleEvent();
    this.leaderCommit(lead, this.log.lastZxid());
    this.answerSyncs(lead);
    // UPTODATE carries the leader's committed zxid, not the one echoed by the learner (issues.md #3).
    for (const h of lead.learners.values()) {
      if (h.stage === 'active') this.send(h.sid, { type: 'uptodate', zxid: this.committedZxid });
      else if (h.stage === 'acked' && h.observer) this.syncLearner(lead, h);
    }
  }

  private leaderTryCommit(lead: LeaderState): void {
    if (lead.phase !== 'broadcast') return;
    const acked = [this.stable.lastZxid];
    for (const h of lead.learners.values()) if (!h.observer && h.stage === 'active') acked.push(h.ackedZxid);
    const q = quorumValue(acked, this.quorum);
    if (q !== undefined && q > this.committedZxid) this.leaderCommit(lead, q);
  }

  private leaderCommit(lead: LeaderState, z: bigint): void {
    const old = this.committedZxid;
    this.commitTo(z);
    const now = this.committedZxid;
    if (now === old) return;
    const commit: PeerMessage = { type: 'commit', zxid: now };
    for (const h of lead.learners.values()) {
      if (h.stage !== 'syncing' && h.stage !== 'active') continue;
      if (!h.observer) {
        this.send(h.sid, commit);
      } else {
        const from = h.syncedTo > old ? h.syncedTo : old;
        for (const e of this.log.slice(from, now)) this.send(h.sid, { type: 'inform', zxid: e.zxid, data: e.data });
        if (now > h.syncedTo) h.syncedTo = now;
      }
    }
  }

  // ================================================================ learner (follower / observer)

  private becomeLearner(leader: number): void {
    this.role = this.isObserver ? 'observing' : 'following';
    this.lead = undefined;
    const l: LearnerState = {
      leader,
      observer: this.isObserver,
      phase: 'connecting',
      epoch: this.currentEpoch,
      startTick: this.now,
      lastHeard: this.now,
      buf: undefined,
      ackTick: this.now,
      echoSent: new Map(),
      contactTick: this.now,
    };
    this.learn = l;
    this.roleEvent();
    for (const sid of this.earlyInfos.keys()) this.disconnect(sid);
    this.earlyInfos.clear();
    if (this.connected.has(leader)) this.sendLearnerInfo(l);
  }

  private sendLearnerInfo(l: LearnerState): void {
    l.phase = 'discovery';
    const type = l.observer ? 'observerinfo' : 'followerinfo';
    this.send(l.leader, { type, acceptedEpoch: this.acceptedEpoch, lastZxid: this.log.lastZxid() });
  }

  private abandonLeader(): void {
    const l = this.learn;
    if (l) this.disconnect(l.leader);
    this.becomeLooking();
  }

  /**
   * Until it has acked NEWLEADER a learner must be synced within initLimit. From the NEWLEADER ACK
   * on the leader counts it in its lease, so from then on it stays loyal until syncLimit has passed
   * since the leader's last message (never less, whatever initLimit is): that is what the lease
   * assumes (leaseValid).
   */
  private tickLearner(l: LearnerState): void {
    if (l.phase === 'synced' || l.phase === 'broadcast') {
      if (this.now - l.lastHeard >= this.cfg.syncLimitTicks) return this.abandonLeader();
    } else if (this.now - l.startTick >= this.cfg.initLimitTicks) {
      return this.abandonLeader();
    }
  }

  private onLeaderMessage(from: number, msg: PeerMessage): void {
    const l = this.learn;
    if (!l || l.leader !== from) return this.ignore(from, msg, 'not from our leader');
    l.lastHeard = this.now;
    const handler = learnerHandlers[msg.type];
    if (!handler) throw new ProtocolViolation(`unexpected ${msg.type} from the leader`);
    handler(this, l, msg as never);
  }

  /** @internal handlers below are called through the table. */
  onLeaderInfo(l: LearnerState, msg: MessageOf<'leaderinfo'>): void {
    if (l.phase !== 'discovery') throw new ProtocolViolation('LEADERINFO outside discovery');
    // Z3: never go back to an epoch below one we accepted. Not a protocol violation: the leader
    // picked its epoch before hearing from us. Look again; the leader makes room (onLearnerInfo).
    if (msg.epoch < (l.observer ? this.currentEpoch : this.acceptedEpoch)) return this.abandonLeader();
    if (msg.epoch > this.acceptedEpoch) {
      this.acceptedEpoch = msg.epoch;
      this.queueHardState(); // durable before the ACKEPOCH below leaves
    }
    l.epoch = msg.epoch;
    l.phase = 'sync';
    this.roleEvent();
    const lastZxid = this.log.lastZxid();
    this.send(l.leader, { type: 'ackepoch', currentEpoch: this.currentEpoch, lastZxid, history: this.log.history() });
  }

  onSyncStart(l: LearnerState, msg: MessageOf<'diff' | 'trunc' | 'snap'>): void {
    if (l.phase !== 'sync' || l.buf) throw new ProtocolViolation(`${msg.type.toUpperCase()} outside synchronization`);
    if (msg.type === 'diff') {
      if (msg.zxid !== this.log.lastZxid()) throw new ProtocolViolation('DIFF from a point we are not at');
      l.buf = { last: msg.zxid, entries: [] };
    } else if (msg.type === 'trunc') {
      if (!this.log.has(msg.zxid)) throw new ProtocolViolation('TRUNC to a zxid we do not have');
      l.buf = { truncateAfter: msg.zxid, last: msg.zxid, entries: [] };
    } else {
      l.buf = { snapshot: { zxid: msg.zxid, data: msg.data }, last: msg.zxid, entries: [] };
    }
  }

  onProposal(l: LearnerState, msg: MessageOf<'proposal'>): void {
    if (l.phase === 'sync') {
      const b = l.buf;
      if (!b || msg.zxid <= b.last) throw new ProtocolViolation('PROPOSAL out of order during sync');
      b.entries.push({ zxid: msg.zxid, data: msg.data });
      b.last = msg.zxid;
      return;
    }
    if (l.phase !== 'synced' && l.phase !== 'broadcast') throw new ProtocolViolation('PROPOSAL before sync');
    // Observers see the sync stream's PROPOSALs but learn later txns only through INFORM.
    if (l.observer) throw new ProtocolViolation('PROPOSAL sent to an observer');
    if (this.isDuplicate(msg.zxid, msg.data)) return this.ignore(l.leader, msg, 'duplicate PROPOSAL'); // tolerated (issues.md #2)
    if (epochOf(msg.zxid) !== l.epoch) throw new ProtocolViolation('PROPOSAL from another epoch');
    const entry = { zxid: msg.zxid, data: msg.data };
    this.appendFromLeader(entry);
    if (this.bugs.ackBeforePersist) this.deferred.entries.push(entry);
    else this.queueEntries([entry]);
    // Same Ready as the entry: the shell persists before it sends, so the ACK means durable (Z9).
    this.send(l.leader, { type: 'ack', zxid: msg.zxid, newLeader: false });
  }

  private isDuplicate(zxid: bigint, data: Buffer): boolean {
    if (zxid > this.log.lastZxid()) return false;
    const have = this.log.get(zxid);
    if (zxid <= this.log.base() || (have && have.data.equals(data))) return true;
    throw new ProtocolViolation('PROPOSAL conflicts with our log');
  }

  private appendFromLeader(entry: Entry): void {
    if (!isSuccessor(this.log.lastZxid(), entry.zxid)) throw new ProtocolViolation('hole before PROPOSAL'); // Z4
    this.log.append(entry);
  }

  /**
   * NEWLEADER: persist the synced history, then currentEpoch, then ACK (ZOOKEEPER-3911/4643).
   * All three go in one Ready: the shell persists it atomically before the ACK is sent.
   */
  onNewLeader(l: LearnerState, msg: MessageOf<'newleader'>): void {
    const b = l.buf;
    if (l.phase !== 'sync' || !b) throw new ProtocolViolation('NEWLEADER outside synchronization');
    if (msg.epoch !== l.epoch) throw new ProtocolViolation('NEWLEADER for another epoch');
    if (b.last !== msg.zxid) throw new ProtocolViolation('NEWLEADER zxid does not match the synced log');
    const holdBack = this.bugs.epochBeforeHistory === true;
    const sink: Deferred = holdBack ? this.deferred : { entries: [] };
    if (b.snapshot) {
      this.log.reset(b.snapshot.zxid);
      this.committedZxid = b.snapshot.zxid;
      sink.snapshot = b.snapshot;
    }
    if (b.truncateAfter !== undefined) {
      if (b.truncateAfter < this.log.base()) throw new ProtocolViolation('TRUNC below our snapshot');
      this.log.truncateAfter(b.truncateAfter);
      sink.truncateAfter = b.truncateAfter;
    }
    for (const e of b.entries) {
      if (!isSuccessor(this.log.lastZxid(), e.zxid)) throw new ProtocolViolation('hole in the synced history');
      this.log.append(e);
      sink.entries.push(e);
    }
    if (!holdBack) {
      if (sink.snapshot) this.queueSnapshot(sink.snapshot);
      if (sink.truncateAfter !== undefined) this.queueTruncate(sink.truncateAfter);
      this.queueEntries(sink.entries);
    }
    l.buf = undefined;
    this.currentEpoch = msg.epoch;
    this.queueHardState();
    l.phase = 'synced';
    l.ackTick = this.now;
    this.send(l.leader, { type: 'ack', zxid: msg.zxid, newLeader: true });
  }

  onCommit(l: LearnerState, msg: MessageOf<'commit'>): void {
    if (l.observer) throw new ProtocolViolation('COMMIT sent to an observer');
    // A COMMIT may arrive between NEWLEADER and UPTODATE (ZOOKEEPER-4394): just honour it.
    if (l.phase !== 'synced' && l.phase !== 'broadcast') throw new ProtocolViolation('COMMIT before NEWLEADER');
    if (msg.zxid > this.log.lastZxid()) throw new ProtocolViolation('COMMIT for an unknown zxid');
    this.commitTo(msg.zxid);
  }

  onInform(l: LearnerState, msg: MessageOf<'inform'>): void {
    if (!l.observer) throw new ProtocolViolation('INFORM sent to a follower');
    if (l.phase !== 'synced' && l.phase !== 'broadcast') throw new ProtocolViolation('INFORM before NEWLEADER');
    if (msg.zxid <= this.log.lastZxid()) {
      this.isDuplicate(msg.zxid, msg.data);
      return this.ignore(l.leader, msg, 'duplicate INFORM');
    }
    const entry = { zxid: msg.zxid, data: msg.data };
    this.appendFromLeader(entry);
    this.queueEntries([entry]);
    this.commitTo(msg.zxid);
  }

  onUpToDate(l: LearnerState, msg: MessageOf<'uptodate'>): void {
    if (l.phase !== 'synced') throw new ProtocolViolation('UPTODATE before NEWLEADER');
    if (msg.zxid > this.log.lastZxid()) throw new ProtocolViolation('UPTODATE beyond our log');
    l.phase = 'broadcast';
    l.contactTick = l.ackTick; // the leader sent UPTODATE after it got our NEWLEADER ACK
    this.roleEvent();
    this.commitTo(msg.zxid);
  }

  onLeaderPing(l: LearnerState, msg: MessageOf<'ping'>): void {
    if (l.phase !== 'synced' && l.phase !== 'broadcast') return this.ignore(l.leader, msg, 'PING before NEWLEADER');
    const confirmed = l.echoSent.get(msg.echoed);
    if (confirmed !== undefined && confirmed > l.contactTick) l.contactTick = confirmed;
    // Rounds up to the confirmed one, or too old to matter, are done with (Map keeps insertion order).
    for (const [r, t] of l.echoSent) {
      if (r > msg.echoed && this.now - t < this.cfg.syncLimitTicks) break;
      l.echoSent.delete(r);
    }
    l.echoSent.set(msg.round, this.now);
    this.send(l.leader, { type: 'ping', round: msg.round, echoed: 0 });
  }

  onSyncAnswer(l: LearnerState, msg: MessageOf<'sync'>): void {
    if (l.phase !== 'synced' && l.phase !== 'broadcast') throw new ProtocolViolation('SYNC answer before NEWLEADER');
    this.pending.syncs.push(msg.zxid);
    this.pendingReal = true;
  }
}

type LearnerHandler = (core: QuorumCore, l: LearnerState, msg: never) => void;

/** Which leader->learner message is handled by which method. */
const learnerHandlers: Partial<Record<PeerMessage['type'], LearnerHandler>> = {
  leaderinfo: (c, l, m: MessageOf<'leaderinfo'>) => c.onLeaderInfo(l, m),
  diff: (c, l, m: MessageOf<'diff'>) => c.onSyncStart(l, m),
  trunc: (c, l, m: MessageOf<'trunc'>) => c.onSyncStart(l, m),
  snap: (c, l, m: MessageOf<'snap'>) => c.onSyncStart(l, m),
  proposal: (c, l, m: MessageOf<'proposal'>) => c.onProposal(l, m),
  newleader: (c, l, m: MessageOf<'newleader'>) => c.onNewLeader(l, m),
  commit: (c, l, m: MessageOf<'commit'>) => c.onCommit(l, m),
  inform: (c, l, m: MessageOf<'inform'>) => c.onInform(l, m),
  uptodate: (c, l, m: MessageOf<'uptodate'>) => c.onUpToDate(l, m),
  ping: (c, l, m: MessageOf<'ping'>) => c.onLeaderPing(l, m),
  sync: (c, l, m: MessageOf<'sync'>) => c.onSyncAnswer(l, m),
};

/**
 * `target.push(...items)` without spreading: a spread passes every item as an argument, and a log
 * tail of ~120k entries or more overflowed the stack (a standalone restart committing 150k logged
 * txns died with "Maximum call stack size exceeded").
 */
function appendAll<T>(target: T[], items: readonly T[]): void {
  for (const item of items) target.push(item);
}
