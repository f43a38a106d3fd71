/**
 * Transcript runner: drives one QuorumCore with scripted peer messages and writes down, line by
 * line, every input and every effect of the resulting Ready (persist, send, disconnect, commit,
 * role change, ignored input). A tiny in-memory "disk" keeps only what was persisted, so a scripted
 * crash restarts the core from durable state.
 *
 * Scripts are data, in the style of etcd raft's datadriven tests: a transcript file
 * (test/sim/transcripts/*.txt) is its own input. Lines starting with `> ` are commands, `#` lines
 * and blank lines are commentary, and the indented lines under each command are its output, which
 * `runScript` regenerates; the test compares the regenerated text with the file.
 */
import { QuorumCore } from '../../../src/quorum/core/core';
import type { Entry } from '../../../src/quorum/core/log';
import type { CoreOptions, PlantedBugs, Ready } from '../../../src/quorum/core/types';
import { counterOf, epochOf, makeZxid } from '../../../src/util/zxid';
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

/** The inverse of `fmtVal`: zxids are `e.c`, buffers quoted, votes `(nL z eE)`, histories `[base z, eE..z]`. */
function parseVal(k: string, v: string): unknown {
  if (v.startsWith('"')) return Buffer.from(v.slice(1, -1));
  if (k === 'vote') {
    const m = /^\(n(\d+) (\d+\.\d+) e(\d+)\)$/.exec(v);
    if (!m) throw new Error(`bad vote ${v}`);
    return { leader: Number(m[1]), zxid: zx(m[2]!), peerEpoch: Number(m[3]) };
  }
  if (k === 'history') {
    const [base, ...segs] = v.slice(1, -1).split(', ');
    return {
      base: zx(base!.replace('base ', '')),
      epochs: segs.map((g) => {
        const [e, z] = g.slice(1).split('..');
        return { epoch: Number(e), lastZxid: zx(z!) };
      }),
    };
  }
  if (v === 'true' || v === 'false') return v === 'true';
  if (/^\d+\.\d+$/.test(v)) return zx(v);
  if (/^-?\d+$/.test(v)) return Number(v);
  return v;
}

/** Fields `k=v` where v is quoted, parenthesised, bracketed or a bare word. */
const FIELD = /(\w+)=("[^"]*"|\([^)]*\)|\[[^\]]*\]|\S+)/g;

function parseFields(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const m of text.matchAll(FIELD)) out[m[1]!] = parseVal(m[1]!, m[2]!);
  return out;
}

/** The inverse of `fmtMsg`. */
export function parseMsg(text: string): PeerMessage {
  const sp = text.indexOf(' ');
  const type = (sp < 0 ? text : text.slice(0, sp)).toLowerCase();
  return { type, ...parseFields(sp < 0 ? '' : text.slice(sp + 1)) } as PeerMessage;
}

function peerOf(word: string | undefined): number {
  const m = /^n(\d+):?$/.exec(word ?? '');
  if (!m) throw new Error(`expected a peer like n1, got ${word}`);
  return Number(m[1]);
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
const CRASH_POINTS: readonly string[] = ['beforePersist', 'afterPersist', 'afterSend'];

/** `boot n2 voters=1,2,3 log=1.1,1.3:orphan ...`: the options of a transcript's server. */
function parseBoot(args: string): ConversationOptions {
  const [who, ...rest] = args.split(' ');
  const f: Record<string, string> = {};
  for (const m of rest.join(' ').matchAll(FIELD)) f[m[1]!] = m[2]!;
  const list = (k: string): string[] => (f[k] ? f[k]!.split(',') : []);
  const snapOf = (z: string): { zxid: bigint; data: Buffer } => ({ zxid: zx(z), data: Buffer.from(`state@${z}`) });
  const leaderSnap = f.leaderSnapshot;
  return {
    id: peerOf(who),
    voters: list('voters').map(Number),
    observers: list('observers').map(Number),
    log: list('log').map((s) => {
      const [z, data] = s.split(':');
      return entry(z!, data);
    }),
    acceptedEpoch: Number(f.acceptedEpoch ?? 0),
    currentEpoch: Number(f.currentEpoch ?? 0),
    snapshot: f.snapshot ? snapOf(f.snapshot) : undefined,
    bugs: Object.fromEntries(list('bugs').map((b) => [b, true])) as PlantedBugs,
    appliedSnapshot: leaderSnap ? () => snapOf(leaderSnap) : undefined,
  };
}

/** Each command of a script: its name, and what it does with the rest of the line. */
const COMMANDS: Record<string, (c: Conversation, args: string) => void> = {
  peerUp: (c, a) => c.up(peerOf(a)),
  peerDown: (c, a) => c.down(peerOf(a)),
  from: (c, a) => {
    const sp = a.indexOf(' ');
    c.recv(peerOf(a.slice(0, sp)), parseMsg(a.slice(sp + 1)));
  },
  tick: (c, a) => c.tick(a ? Number(a.replace(/^x/, '')) : 1),
  propose: (c, a) => c.propose(a.replace(/^"|"$/g, '')),
  sendToLeader: (c, a) => c.toLeader(parseMsg(a) as Parameters<QuorumCore['sendToLeader']>[0]),
  requestSync: (c) => c.sync(),
  compact: (c, a) => c.compact(a),
  crash: (c, a) => {
    if (!CRASH_POINTS.includes(a)) throw new Error(`crash point must be one of ${CRASH_POINTS.join(', ')}`);
    c.crashDuringNext(a as CrashPoint);
  },
  contact: (c) => c.contact(),
  status: (c) => c.status(),
};

/**
 * Runs a transcript file's commands and returns the file as it should read: the same commands and
 * commentary, each command followed by its regenerated output. The first command must be `boot`.
 */
export function runScript(text: string): string {
  let c: Conversation | undefined;
  const out: string[] = [];
  for (const [i, line] of text.replace(/\n$/, '').split('\n').entries()) {
    if (line.startsWith('  ')) continue; // output: regenerated below
    if (!line.startsWith('> ')) {
      (c ? c.lines : out).push(line);
      continue;
    }
    const body = line.slice(2);
    const sp = body.indexOf(' ');
    const [cmd, args] = sp < 0 ? [body, ''] : [body.slice(0, sp), body.slice(sp + 1)];
    try {
      if (cmd === 'boot') {
        if (c) throw new Error('boot twice');
        c = new Conversation(parseBoot(args), out, line);
        continue;
      }
      const run = COMMANDS[cmd!];
      if (!run) throw new Error(`unknown command ${cmd}`);
      if (!c) throw new Error('the first command must be boot');
      c.lines.push(line);
      run(c, args);
    } catch (e) {
      throw new Error(`line ${i + 1} (${line}): ${(e as Error).message}`);
    }
  }
  return (c ? c.lines : out).join('\n') + '\n';
}

export class Conversation {
  private core: QuorumCore;
  private disk: Disk;
  private crashAt: CrashPoint | undefined;

  constructor(
    private readonly o: ConversationOptions,
    readonly lines: string[],
    bootLine: string,
  ) {
    this.lines.push(bootLine);
    this.disk = {
      acceptedEpoch: o.acceptedEpoch ?? 0,
      currentEpoch: o.currentEpoch ?? 0,
      snapshot: o.snapshot,
      log: [...(o.log ?? [])],
    };
    this.core = this.boot();
  }

  private out(text: string): void {
    this.lines.push(`  ${text}`);
  }

  private boot(): QuorumCore {
    const d = this.disk;
    this.out(
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

  up(peer: number): void {
    this.core.peerUp(peer);
    this.drain();
  }

  down(peer: number): void {
    this.core.peerDown(peer);
    this.drain();
  }

  recv(from: number, msg: PeerMessage): void {
    this.core.step(from, msg);
    this.drain();
  }

  tick(n: number): void {
    for (let i = 0; i < n; i++) {
      this.core.tick();
      this.drain();
    }
  }

  propose(data: string): void {
    const z = this.core.propose(Buffer.from(data));
    this.out(`-> ${z === undefined ? 'refused' : fmtZxid(z)}`);
    this.drain();
  }

  /** A learner's server layer sends a REQUEST / REVALIDATE / SYNC to the leader. */
  toLeader(msg: Parameters<QuorumCore['sendToLeader']>[0]): void {
    this.out(`-> ${this.core.sendToLeader(msg) ? 'queued' : 'refused'}`);
    this.drain();
  }

  /** A client of this (leader) server asks for sync. */
  sync(): void {
    this.out(`-> ${this.core.requestSync() ? 'queued' : 'refused'}`);
    this.drain();
  }

  compact(z: string): void {
    this.core.compact(zx(z));
    this.disk.snapshot = { zxid: zx(z), data: Buffer.from(`state@${z}`) };
    this.disk.log = this.disk.log.filter((e) => e.zxid > zx(z));
  }

  /** Crash while handling the next Ready at `point`, then restart from what is on disk. */
  crashDuringNext(point: CrashPoint): void {
    this.crashAt = point;
  }

  /** How long since this learner's leader last confirmed it hears us (QuorumCore.contactAge). */
  contact(): void {
    this.out(`= contact age ${this.core.contactAge()} ticks`);
  }

  status(): void {
    const s = this.core.status();
    const d = this.disk;
    this.out(
      `= ${s.role}/${s.phase} leader=${s.leader === undefined ? '-' : `n${s.leader}`} epoch=${s.epoch} ` +
        `committed=${fmtZxid(s.committedZxid)} | disk: accepted=${d.acceptedEpoch} current=${d.currentEpoch} ` +
        `log=[${d.log.map((e) => fmtZxid(e.zxid)).join(' ')}]`,
    );
  }

  private drain(quiet = false): void {
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
  }

  private crashNow(r: Ready, point: CrashPoint): void {
    const lost = point === 'beforePersist' ? 'nothing of it persisted' : point === 'afterPersist' ? 'persisted, nothing sent' : 'persisted and sent';
    this.out(`!! crash ${point}: ${lost} (${r.messages.length} message(s) in that Ready)`);
    this.boot();
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
    if (persist.length > 0) out.push(`persist: ${persist.join('; ')}`);
    for (const m of r.messages) out.push(`send n${m.to}: ${fmtMsg(m.msg)}`);
    for (const p of r.disconnect) out.push(`disconnect n${p}`);
    if (r.committed.length > 0) out.push(`commit: ${r.committed.map((e) => fmtZxid(e.zxid)).join(' ')}`);
    for (const ev of r.roleEvents) out.push(`role: ${ev.role}/${ev.phase} leader=${ev.leader === undefined ? '-' : `n${ev.leader}`} epoch=${ev.epoch}`);
    for (const f of r.forwarded) out.push(`forwarded from n${f.from}: ${fmtMsg(f.msg)}`);
    for (const z of r.syncs) out.push(`sync answered: apply up to ${fmtZxid(z)}`);
    for (const g of r.ignored) out.push(`ignored from n${g.from}: ${g.type.toUpperCase()} (${g.why})`);
    for (const e of r.errors) out.push(`error: ${e}`);
    for (const n of r.notes) out.push(`note: ${n}`);
    if (!quiet) for (const line of out) this.out(line);
  }
}
