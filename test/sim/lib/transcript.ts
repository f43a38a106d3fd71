/**
 * Transcript runner: drives one QuorumCore with scripted peer messages through production's shell
 * steps — the one executor of a Ready (src/quorum/execute.ts) over the memory store — and writes
 * down, line by line, every input and every effect (store transaction, send, disconnect, commit,
 * role change, ignored input). A scripted crash drops the store object and restarts the core from
 * what the store's disk holds.
 *
 * Scripts are data, in the style of etcd raft's datadriven tests: a transcript file
 * (test/sim/transcripts/*.txt) is its own input. Lines starting with `> ` are commands, `#` lines
 * and blank lines are commentary, and the indented lines under each command are its output, which
 * `runScript` regenerates; the test compares the regenerated text with the file.
 */
import { QuorumCore } from '../../../src/quorum/core/core';
import type { Entry } from '../../../src/quorum/core/log';
import type { CoreOptions, PlantedBugs } from '../../../src/quorum/core/types';
import { durableStateOf, executeReady, sendPolicy, type ReadyTarget, type ShellBugs } from '../../../src/quorum/execute';
import { createMemoryStore, newMemoryDisk } from '../../../src/storage/memory';
import { decodeSnapshotRef, encodeSnapshotRef, readSnapshotBytes, writeSnapshotBytes } from '../../../src/storage/bodies';
import type { PersistBatch, Store } from '../../../src/storage/types';
import { entryIntact, entryPayload, sealEntry } from '../../../src/util/checksum';
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

export interface ConversationOptions {
  id: number;
  voters: number[];
  observers?: number[];
  /** Payloads as written in the script (`log=1.1,1.3:orphan`); the runner seals them. */
  log?: Array<{ zxid: bigint; payload: string }>;
  acceptedEpoch?: number;
  currentEpoch?: number;
  bugs?: PlantedBugs;
  shellBugs?: ShellBugs;
}

/** Where a scripted crash interrupts the handling of a Ready: the next time this point is reached. */
export type CrashPoint = 'beforePersist' | 'afterPersist' | 'afterSend';
const CRASH_POINTS: readonly string[] = ['beforePersist', 'afterPersist', 'afterSend'];

/** Thrown by the shell's hooks at a scripted crash point; the run restarts the core from the store. */
class Crash extends Error {}

/** `boot n2 voters=1,2,3 log=1.1,1.3:orphan ...`: the options of a transcript's server. */
function parseBoot(args: string): ConversationOptions {
  const [who, ...rest] = args.split(' ');
  const f: Record<string, string> = {};
  for (const m of rest.join(' ').matchAll(FIELD)) f[m[1]!] = m[2]!;
  const list = (k: string): string[] => (f[k] ? f[k]!.split(',') : []);
  const flags = <T>(k: string): T => Object.fromEntries(list(k).map((b) => [b, true])) as T;
  return {
    id: peerOf(who),
    voters: list('voters').map(Number),
    observers: list('observers').map(Number),
    log: list('log').map((s) => {
      const [z, data] = s.split(':');
      return { zxid: zx(z!), payload: data ?? `v${z}` };
    }),
    acceptedEpoch: Number(f.acceptedEpoch ?? 0),
    currentEpoch: Number(f.currentEpoch ?? 0),
    bugs: flags<PlantedBugs>('bugs'),
    shellBugs: flags<ShellBugs>('shellBugs'),
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
  // `fromBatch n1: MSG | MSG ...`: messages read in one turn, stepped before one Ready is drained.
  fromBatch: (c, a) => {
    const sp = a.indexOf(' ');
    c.recvBatch(peerOf(a.slice(0, sp)), a.slice(sp + 1).split(' | ').map(parseMsg));
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


/**
 * One server's shell as production runs it, minus the sockets: each Ready goes through the one
 * executor (`executeReady`, with production's send policy) into a memory store (src/storage/memory.ts),
 * whose disk outlives a scripted crash; a restart opens a new store on that disk and builds the core
 * from what it holds (`durableStateOf`). Every output line is written when the executor reaches its
 * step, so the order shown is the executor's (a leader's PROPOSALs leave before their persist), and
 * each `persist:` line is one store transaction, as it was committed.
 */
export class Conversation {
  private readonly disk = newMemoryDisk();
  private store: Store;
  private core!: QuorumCore;
  private crashAt: CrashPoint | undefined;
  private quiet = false;
  /** The Ready being executed: its message count and how many have left (the afterSend point). */
  private sending = { total: 0, sent: 0 };
  private readonly target: ReadyTarget;

  constructor(
    private readonly o: ConversationOptions,
    readonly lines: string[],
    bootLine: string,
  ) {
    this.lines.push(bootLine);
    this.store = createMemoryStore({ disk: this.disk });
    const entries = (o.log ?? []).map((e) => ({ zxid: e.zxid, data: sealEntry(e.zxid, Buffer.from(e.payload)) }));
    this.store.persist({ hardState: { acceptedEpoch: o.acceptedEpoch ?? 0, currentEpoch: o.currentEpoch ?? 0 }, entries });
    this.target = this.readyTarget();
    this.boot();
  }

  private out(text: string): void {
    if (!this.quiet) this.lines.push(`  ${text}`);
  }

  /** Starts (or, after a crash, restarts) the server from what its disk holds. */
  private boot(): void {
    this.store = createMemoryStore({ disk: this.disk });
    const d = durableStateOf(this.store);
    this.out(`boot n${this.o.id}: acceptedEpoch=${d.acceptedEpoch} currentEpoch=${d.currentEpoch}${this.snapshotText()} log=${this.logText()}`);
    let r = 0;
    const opts: CoreOptions = { bugs: this.o.bugs, hooks: { snapshot: () => this.snapshotForSync() } };
    this.core = new QuorumCore(
      {
        id: this.o.id,
        voters: this.o.voters,
        observers: this.o.observers ?? [],
        electionTimeoutTicks: 5,
        syncLimitTicks: 5,
        initLimitTicks: 10,
        rng: { next: () => ((r = (r + 0.37) % 1), r) },
      },
      d,
      opts,
    );
    this.quiet = true;
    this.drain();
    this.quiet = false;
  }

  private snapshotText(): string {
    const s = this.store.latestSnapshot();
    return s ? ` snapshot=${fmtZxid(s.zxid)}` : '';
  }

  private logText(): string {
    return `[${this.store.readLog(0n).map((e) => fmtZxid(e.zxid)).join(' ')}]`;
  }

  /** As server/snapsync.ts: a SNAP names this server's newest snapshot (id 0: the empty tree). */
  private snapshotForSync(): { zxid: bigint; data: Buffer } {
    const s = this.store.latestSnapshot();
    return { zxid: s?.zxid ?? 0n, data: encodeSnapshotRef(s ?? { id: 0, chunks: 0, bytes: 0, checksum: 0, createdAt: 0 }) };
  }

  /** A SNAP's body, read back from this server's store. */
  private snapshotBody(ref: Buffer): Buffer {
    const d = decodeSnapshotRef(ref);
    if (d.id === 0) return Buffer.from('state@0.0');
    return Buffer.concat(this.store.readSnapshotChunks({ ...d, zxid: 0n }, 0, d.chunks));
  }

  /** A message as the script shows it: an entry without its seal, a SNAP as its body. */
  private show(m: PeerMessage): string {
    if ((m.type === 'proposal' || m.type === 'inform') && entryIntact(m.zxid, m.data)) return fmtMsg({ ...m, data: entryPayload(m.data) });
    if (m.type === 'snap') return fmtMsg({ ...m, data: this.snapshotBody(m.data) });
    return fmtMsg(m);
  }

  /**
   * A scripted message as the shell hands it to the core: an entry sealed (as the leader's prep
   * does), a SNAP's body written to the store first and named by a descriptor (server/snapsync.ts).
   */
  private wire(m: PeerMessage): PeerMessage {
    if (m.type === 'proposal' || m.type === 'inform') return { ...m, data: sealEntry(m.zxid, m.data) };
    if (m.type === 'snap') return { ...m, data: encodeSnapshotRef(writeSnapshotBytes(this.store, m.zxid, m.data, 0)) };
    return m;
  }

  /** Where executeReady's steps go: output lines, and the crash points. */
  private readyTarget(): ReadyTarget {
    const zxids = (es: readonly Entry[]): string => es.map((e) => fmtZxid(e.zxid)).join(' ');
    return {
      store: this.recording(),
      send: (to, msg) => {
        this.out(`send n${to}: ${this.show(msg)}`);
        if (++this.sending.sent === this.sending.total) this.crashIf('afterSend');
      },
      flush: () => undefined,
      disconnect: (peer) => this.out(`disconnect n${peer}`),
      installSnapshot: () => undefined,
      applyCommitted: (es) => this.out(`commit: ${zxids(es)}`),
      applyLogged: (es) => this.out(`apply before commit: ${zxids(es)}`),
      onRoleEvent: (ev) => this.out(`role: ${ev.role}/${ev.phase} leader=${ev.leader === undefined ? '-' : `n${ev.leader}`} epoch=${ev.epoch}`),
      onForwarded: (from, msg) => this.out(`forwarded from n${from}: ${fmtMsg(msg)}`),
      onSyncAnswer: (z) => this.out(`sync answered: apply up to ${fmtZxid(z)}`),
      log: (level, text, fields = {}) => {
        if (level === 'info') return this.out(`note: ${text}`);
        if (fields.error !== undefined) return this.out(`error: ${String(fields.error)}`);
        // The shell logs zxids in hex (zxidHex); the script writes them as epoch.counter.
        const shown = Object.entries(fields).map(([k, v]) => ` ${k}=${/^0x[0-9a-f]+$/.test(String(v)) ? fmtZxid(BigInt(String(v))) : String(v)}`);
        this.out(`warn: ${text}${shown.join('')}`);
      },
      onIgnored: (ignored) => {
        for (const g of ignored) this.out(`ignored from n${g.from}: ${g.type.toUpperCase()} (${g.why})`);
      },
    };
  }

  /** The store executeReady writes to: the current memory store, each transaction written down, with the persist crash points. */
  private recording(): Store {
    const persist = (b: PersistBatch): void => {
      this.crashIf('beforePersist');
      this.store.persist(b);
      this.out(`persist: ${this.batchText(b)}`);
      this.crashIf('afterPersist');
    };
    return new Proxy({} as Store, {
      get: (_t, k: keyof Store) => {
        if (k === 'persist') return persist;
        const v = this.store[k];
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(this.store) : v;
      },
    });
  }

  private batchText(b: PersistBatch): string {
    const parts: string[] = [];
    if (b.snapshot) parts.push(`snapshot ${fmtZxid(b.snapshot.zxid)} "${readSnapshotBytes(this.store, b.snapshot).toString()}"`);
    if (b.truncateAfter !== undefined) parts.push(`truncate after ${fmtZxid(b.truncateAfter)}`);
    if (b.entries?.length) parts.push(`entries ${b.entries.map((e) => fmtZxid(e.zxid)).join(' ')}`);
    if (b.hardState) parts.push(`acceptedEpoch=${b.hardState.acceptedEpoch} currentEpoch=${b.hardState.currentEpoch}`);
    return parts.join('; ');
  }

  private crashIf(point: CrashPoint): void {
    if (this.crashAt !== point) return;
    this.crashAt = undefined;
    throw new Crash(point);
  }

  private drain(): void {
    const policy = sendPolicy(this.o.shellBugs);
    while (this.core.hasReady()) {
      const r = this.core.ready();
      this.sending = { total: r.messages.length, sent: 0 };
      try {
        executeReady(r, this.core.status().role, this.target, policy, this.o.shellBugs);
      } catch (e) {
        if (!(e instanceof Crash)) throw e;
        this.out(`!! crash ${e.message}: ${this.sending.sent} of ${r.messages.length} message(s) of that Ready sent`);
        return this.boot();
      }
      this.core.advance(r);
    }
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
    this.core.step(from, this.wire(msg));
    this.drain();
  }

  recvBatch(from: number, msgs: PeerMessage[]): void {
    for (const msg of msgs) this.core.step(from, this.wire(msg));
    this.drain();
  }

  tick(n: number): void {
    for (let i = 0; i < n; i++) {
      this.core.tick();
      this.drain();
    }
  }

  /** A client write on this (leader) server: the core decides the zxid before the txn is sealed, as in prep. */
  propose(data: string): void {
    const z = this.core.nextZxid();
    const got = z === undefined ? undefined : this.core.propose(sealEntry(z, Buffer.from(data)));
    this.out(`-> ${got === undefined ? 'refused' : fmtZxid(got)}`);
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

  /** The shell snapshots its applied state at `z` (server/snapshots.ts): a named snapshot; the log stays until a purge. */
  compact(z: string): void {
    this.store.saveSnapshot(writeSnapshotBytes(this.store, zx(z), Buffer.from(`state@${z}`), 0));
    this.core.compact(zx(z));
    this.out(`saved snapshot ${z}`);
  }

  /** Crash the next time `point` is reached, then restart from what is on disk. */
  crashDuringNext(point: CrashPoint): void {
    this.crashAt = point;
  }

  /** How long since this learner's leader last confirmed it hears us (QuorumCore.contactAge). */
  contact(): void {
    this.out(`= contact age ${this.core.contactAge()} ticks`);
  }

  status(): void {
    const s = this.core.status();
    const hs = this.store.hardState();
    this.out(
      `= ${s.role}/${s.phase} leader=${s.leader === undefined ? '-' : `n${s.leader}`} epoch=${s.epoch} ` +
        `committed=${fmtZxid(s.committedZxid)} | disk: accepted=${hs.acceptedEpoch} current=${hs.currentEpoch}${this.snapshotText()} log=${this.logText()}`,
    );
  }
}
