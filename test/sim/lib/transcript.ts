/**
 * Transcript runner: drives one QuorumCore with scripted peer messages and writes down, line by
 * line, every input and every effect of the resulting Ready (persist, send, disconnect, commit,
 * role change). A tiny in-memory "disk" keeps only what was persisted, so a scripted crash restarts
 * the core from durable state. Transcripts are compared against files in test/sim/transcripts/.
 */
import { QuorumCore } from '../../../src/quorum/core/core';
import type { Entry } from '../../../src/quorum/core/log';
import type { CoreOptions, PlantedBugs, Ready } from '../../../src/quorum/core/types';
import { counterOf, epochOf, makeZxid } from '../../../src/quorum/zxid';
import type { PeerMessage } from '../../../protocol/peer/messages';

/** "2.5" is zxid epoch 2, counter 5. */
export function zx(s: string): bigint {
  const [e, c] = s.split('.');
  return makeZxid(Number(e), BigInt(c!));
}

export function fmtZxid(z: bigint): string {
  return `${epochOf(z)}.${counterOf(z)}`;
}

export function entry(s: string, data = `v${s}`): Entry {
  return { zxid: zx(s), data: Buffer.from(data) };
}

function fmtVal(k: string, v: unknown): string {
  if (typeof v === 'bigint') return `${k}=${fmtZxid(v)}`;
  if (Buffer.isBuffer(v)) return `${k}="${v.toString()}"`;
  if (k === 'history') {
    const h = v as { base: bigint; epochs: Array<{ epoch: number; lastZxid: bigint }> };
    return `history=[base ${fmtZxid(h.base)}${h.epochs.map((s) => `, e${s.epoch}..${fmtZxid(s.lastZxid)}`).join('')}]`;
  }
  if (k === 'vote') {
    const vote = v as { leader: number; zxid: bigint; peerEpoch: number };
    return `vote=(n${vote.leader} ${fmtZxid(vote.zxid)} e${vote.peerEpoch})`;
  }
  return `${k}=${String(v)}`;
}

export function fmtMsg(m: PeerMessage): string {
  const fields = Object.entries(m)
    .filter(([k]) => k !== 'type')
    .map(([k, v]) => fmtVal(k, v));
  return [m.type.toUpperCase(), ...fields].join(' ');
}

interface Disk {
  acceptedEpoch: number;
  currentEpoch: number;
  snapshot?: { zxid: bigint; data: Buffer };
  log: Entry[];
}

export interface ConversationOptions {
  id: number;
  voters: number[];
  observers?: number[];
  log?: Entry[];
  acceptedEpoch?: number;
  currentEpoch?: number;
  snapshot?: { zxid: bigint; data: Buffer };
  bugs?: PlantedBugs;
  /** What the SNAP hook returns on a leader. */
  appliedSnapshot?: () => { zxid: bigint; data: Buffer };
}

/** Where a scripted crash interrupts the handling of one Ready. */
export type CrashPoint = 'beforePersist' | 'afterPersist' | 'afterSend';

export class Conversation {
  readonly lines: string[] = [];
  private core: QuorumCore;
  private disk: Disk;
  private crashAt: CrashPoint | undefined;

  constructor(
    title: string,
    private readonly o: ConversationOptions,
  ) {
    this.lines.push(`# ${title}`);
    this.disk = {
      acceptedEpoch: o.acceptedEpoch ?? 0,
      currentEpoch: o.currentEpoch ?? 0,
      snapshot: o.snapshot,
      log: [...(o.log ?? [])],
    };
    this.core = this.boot();
  }

  private boot(): QuorumCore {
    const d = this.disk;
    this.lines.push(
      `boot n${this.o.id}: acceptedEpoch=${d.acceptedEpoch} currentEpoch=${d.currentEpoch}` +
        `${d.snapshot ? ` snapshot=${fmtZxid(d.snapshot.zxid)}` : ''} log=[${d.log.map((e) => fmtZxid(e.zxid)).join(' ')}]`,
    );
    let r = 0;
    const opts: CoreOptions = { bugs: this.o.bugs, hooks: { snapshot: this.o.appliedSnapshot } };
    const core = new QuorumCore(
      {
        id: this.o.id,
        voters: this.o.voters,
        observers: this.o.observers ?? [],
        electionTimeoutTicks: 5,
        syncLimitTicks: 5,
        initLimitTicks: 10,
        rng: { next: () => ((r = (r + 0.37) % 1), r) },
      },
      { acceptedEpoch: d.acceptedEpoch, currentEpoch: d.currentEpoch, log: d.log, snapshotZxid: d.snapshot?.zxid },
      opts,
    );
    this.core = core;
    this.drain(true);
    return core;
  }

  note(text: string): this {
    this.lines.push('');
    this.lines.push(`# ${text}`);
    return this;
  }

  up(...peers: number[]): this {
    for (const p of peers) {
      this.lines.push(`> peerUp n${p}`);
      this.core.peerUp(p);
      this.drain();
    }
    return this;
  }

  down(peer: number): this {
    this.lines.push(`> peerDown n${peer}`);
    this.core.peerDown(peer);
    return this.drain();
  }

  recv(from: number, msg: PeerMessage): this {
    this.lines.push(`> from n${from}: ${fmtMsg(msg)}`);
    this.core.step(from, msg);
    return this.drain();
  }

  tick(n = 1): this {
    this.lines.push(`> tick x${n}`);
    for (let i = 0; i < n; i++) {
      this.core.tick();
      this.drain();
    }
    return this;
  }

  propose(data: string): this {
    const z = this.core.propose(Buffer.from(data));
    this.lines.push(`> propose "${data}" -> ${z === undefined ? 'refused' : fmtZxid(z)}`);
    return this.drain();
  }

  /** A learner's server layer sends a REQUEST / REVALIDATE / SYNC to the leader. */
  toLeader(msg: Parameters<QuorumCore['sendToLeader']>[0]): this {
    this.lines.push(`> sendToLeader ${fmtMsg(msg)} -> ${this.core.sendToLeader(msg) ? 'queued' : 'refused'}`);
    return this.drain();
  }

  /** A client of this (leader) server asks for sync. */
  sync(): this {
    this.lines.push(`> requestSync -> ${this.core.requestSync() ? 'queued' : 'refused'}`);
    return this.drain();
  }

  compact(z: string): this {
    this.lines.push(`> compact ${z}`);
    this.core.compact(zx(z));
    this.disk.snapshot = { zxid: zx(z), data: Buffer.from(`state@${z}`) };
    this.disk.log = this.disk.log.filter((e) => e.zxid > zx(z));
    return this;
  }

  /** Crash while handling the next Ready at `point`, then restart from what is on disk. */
  crashDuringNext(point: CrashPoint): this {
    this.crashAt = point;
    return this;
  }

  /** How long since this learner's leader last confirmed it hears us (QuorumCore.contactAge). */
  contact(): this {
    this.lines.push(`= contact age ${this.core.contactAge()} ticks`);
    return this;
  }

  status(): this {
    const s = this.core.status();
    const d = this.disk;
    this.lines.push(
      `= ${s.role}/${s.phase} leader=${s.leader === undefined ? '-' : `n${s.leader}`} epoch=${s.epoch} ` +
        `committed=${fmtZxid(s.committedZxid)} | disk: accepted=${d.acceptedEpoch} current=${d.currentEpoch} ` +
        `log=[${d.log.map((e) => fmtZxid(e.zxid)).join(' ')}]`,
    );
    return this;
  }

  get text(): string {
    return this.lines.join('\n') + '\n';
  }

  private drain(quiet = false): this {
    while (this.core.hasReady()) {
      const r = this.core.ready();
      const crash = this.crashAt;
      this.crashAt = undefined;
      if (crash === 'beforePersist') return this.crashNow(r, crash);
      this.persist(r);
      if (crash === 'afterPersist') return this.crashNow(r, crash);
      this.describeEffects(r, quiet);
      if (crash === 'afterSend') return this.crashNow(r, crash);
      this.core.advance(r);
    }
    return this;
  }

  private crashNow(r: Ready, point: CrashPoint): this {
    const lost = point === 'beforePersist' ? 'nothing of it persisted' : point === 'afterPersist' ? 'persisted, nothing sent' : 'persisted and sent';
    this.lines.push(`  !! crash ${point}: ${lost} (${r.messages.length} message(s) in that Ready)`);
    this.boot();
    return this;
  }

  private persist(r: Ready): void {
    const d = this.disk;
    if (r.snapshot) {
      d.snapshot = r.snapshot;
      d.log = [];
    }
    if (r.truncateAfter !== undefined) d.log = d.log.filter((e) => e.zxid <= r.truncateAfter!);
    d.log.push(...r.entries);
    if (r.hardState) {
      d.acceptedEpoch = r.hardState.acceptedEpoch;
      d.currentEpoch = r.hardState.currentEpoch;
    }
  }

  private describeEffects(r: Ready, quiet: boolean): void {
    const out: string[] = [];
    const persist: string[] = [];
    if (r.snapshot) persist.push(`snapshot ${fmtZxid(r.snapshot.zxid)} "${r.snapshot.data.toString()}"`);
    if (r.truncateAfter !== undefined) persist.push(`truncate after ${fmtZxid(r.truncateAfter)}`);
    if (r.entries.length > 0) persist.push(`entries ${r.entries.map((e) => fmtZxid(e.zxid)).join(' ')}`);
    if (r.hardState) persist.push(`acceptedEpoch=${r.hardState.acceptedEpoch} currentEpoch=${r.hardState.currentEpoch}`);
    if (persist.length > 0) out.push(`  persist: ${persist.join('; ')}`);
    for (const m of r.messages) out.push(`  send n${m.to}: ${fmtMsg(m.msg)}`);
    for (const p of r.disconnect) out.push(`  disconnect n${p}`);
    if (r.committed.length > 0) out.push(`  commit: ${r.committed.map((e) => fmtZxid(e.zxid)).join(' ')}`);
    for (const ev of r.roleEvents) out.push(`  role: ${ev.role}/${ev.phase} leader=${ev.leader === undefined ? '-' : `n${ev.leader}`} epoch=${ev.epoch}`);
    for (const f of r.forwarded) out.push(`  forwarded from n${f.from}: ${fmtMsg(f.msg)}`);
    for (const z of r.syncs) out.push(`  sync answered: apply up to ${fmtZxid(z)}`);
    for (const e of r.errors) out.push(`  error: ${e}`);
    for (const n of r.notes) out.push(`  note: ${n}`);
    if (!quiet) this.lines.push(...out);
  }
}
