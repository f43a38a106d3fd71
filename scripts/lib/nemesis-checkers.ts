/**
 * The nemesis's history and its checkers. Pure: the workload records what clients saw (times are
 * milliseconds on the one monotonic clock of the workload process); these functions decide.
 *
 *  - registers: writes, compare-and-set and sync+read must be linearizable (per key, with unknown
 *    outcomes maybe-applied); every read, plain ones included, must be sequentially consistent per
 *    session: versions never go back, a version always carries the same value, and every value
 *    read was written by someone (ZooKeeper promises no more for plain reads, RELIABILITY §1.1)
 *  - creates: every acknowledged create present at the end on every member, nothing present that
 *    was never attempted, every member holding the same set
 *  - exclusion: Mutex holders and LeaderLatch leaders never overlap in time, where the protocol
 *    promises it (see checkExclusion); lock-fenced writes never interleave between holders
 *  - unavailability: the longest stretch without a successful quorum operation, per fault kind
 */
import {
  checkOperations,
  registerModel,
  smallestFailingWindow,
  type Operation,
  type RegisterInput,
  type RegisterOutput,
  type RegisterState,
  UNKNOWN_REGISTER,
} from './nemesis-linearizability';

export type Outcome = 'ok' | 'fail' | 'info';

export interface RegisterOp {
  client: number;
  /** Session id (hex); a new session after `lost` is a new sequence for the consistency checks. */
  session: string;
  key: string;
  f: 'write' | 'cas' | 'read' | 'plain-read';
  value?: string;
  expected?: number;
  call: number;
  ret: number;
  type: Outcome;
  /** ok writes/cas and reads: the data version after/seen. */
  version?: number;
  /** reads: the data seen. */
  read?: string;
  error?: string;
  /** ok ops: mzxid of the znode in the reply (hex), and the server the session was on. */
  mzxid?: string;
  server?: string;
}

export interface CreateOp {
  client: number;
  session?: string;
  path: string;
  call: number;
  ret: number;
  type: Outcome;
  error?: string;
}

export interface HoldInterval {
  what: 'mutex' | 'latch';
  client: number;
  /** The holder's lock/latch node. */
  node: string;
  start: number;
  end: number;
  endReason: string;
}

export interface FencedWrite {
  client: number;
  /** The lock node the write was fenced on (multi: check(node), setData). */
  node: string;
  /** The write's zxid (mzxid of the fenced znode after it), as a decimal string. */
  zxid: string;
}

export interface FaultRecord {
  kind: string;
  target: string;
  start: number;
  end: number;
  detail?: string;
}

export interface History {
  registers: RegisterOp[];
  creates: CreateOp[];
  holds: HoldInterval[];
  fenced: FencedWrite[];
  faults: FaultRecord[];
  /** Event-loop stalls of the workload process itself (start time, length in ms). */
  stalls: { at: number; ms: number }[];
  /** Final /set children as each member reported them after healing (undefined: unreachable). */
  finalSets: Record<string, string[] | undefined>;
  /** Negotiated session timeout of the workload's sessions. */
  sessionTimeoutMs: number;
  initialValue: string;
}

export interface Finding {
  checker: string;
  message: string;
  /** The smallest failing window of history, when there is one. */
  window?: string[];
}

// ------------------------------------------------------------------------------ registers

const fmtT = (t: number) => (Number.isFinite(t) ? `${(t / 1000).toFixed(3)}s` : '∞');

function describeOp(o: RegisterOp): string {
  const res = o.type === 'info' ? '?' : o.type === 'fail' ? `fail(${o.error ?? ''})` : o.f.endsWith('read') ? `${JSON.stringify(o.read)}@v${o.version}` : `v${o.version}`;
  const what = o.f === 'write' ? `write ${JSON.stringify(o.value)}` : o.f === 'cas' ? `cas v${o.expected} ${JSON.stringify(o.value)}` : o.f;
  const where = [o.mzxid ? `mzxid 0x${o.mzxid}` : '', o.server ? `via ${o.server}` : ''].filter((x) => x).join(', ');
  return `[${fmtT(o.call)} .. ${fmtT(o.type === 'info' ? Infinity : o.ret)}] client ${o.client} ${o.key} ${what} -> ${res}${where ? ` (${where})` : ''}`;
}

/**
 * The operations the linearizability check sees: writes, cas and sync+reads. Failed reads tell
 * nothing and are dropped; a cas failed with anything but BadVersion is unknown-outcome unless
 * ZooKeeper says it was not applied.
 */
export function toOperations(ops: readonly RegisterOp[]): (Operation<RegisterInput, RegisterOutput> & { source: RegisterOp })[] {
  const out: (Operation<RegisterInput, RegisterOutput> & { source: RegisterOp })[] = [];
  for (const o of ops) {
    if (o.f === 'plain-read') continue;
    if (o.f === 'read') {
      if (o.type === 'ok') out.push({ call: o.call, ret: o.ret, input: { f: 'read' }, output: { value: o.read, version: o.version }, source: o });
      continue;
    }
    const input: RegisterInput = o.f === 'write' ? { f: 'write', value: o.value! } : { f: 'cas', expected: o.expected!, value: o.value! };
    if (o.type === 'ok') out.push({ call: o.call, ret: o.ret, input, output: { version: o.version }, source: o });
    else if (o.type === 'fail' && o.error === 'BadVersion') out.push({ call: o.call, ret: o.ret, input, output: { failed: true }, source: o });
    else if (o.type === 'info') out.push({ call: o.call, ret: Infinity, input, source: o });
    // Other definite failures (NoNode...) did not apply and constrain nothing the model tracks.
  }
  return out;
}

export interface RegisterReport {
  keys: number;
  linearizable: number;
  unknown: number;
  findings: Finding[];
}

export function checkRegisters(h: Pick<History, 'registers' | 'initialValue'>, opts: { maxSteps?: number } = {}): RegisterReport {
  const byKey = new Map<string, RegisterOp[]>();
  for (const o of h.registers) byKey.set(o.key, [...(byKey.get(o.key) ?? []), o]);
  const findings: Finding[] = [];
  let linearizable = 0;
  let unknown = 0;
  for (const [key, ops] of byKey) {
    const init: RegisterState = { value: h.initialValue, version: 0 };
    const model = registerModel([init]);
    const lin = toOperations(ops);
    const r = checkOperations(model, lin, opts);
    if (r.verdict === 'linearizable') linearizable++;
    else if (r.verdict === 'unknown') unknown++;
    else {
      const w = smallestFailingWindow(model, lin, [UNKNOWN_REGISTER], opts);
      findings.push({
        checker: 'linearizability',
        message: `${key}: writes, cas and sync+reads are not linearizable (${lin.length} ops; certain at ${fmtT(w?.until ?? NaN)})`,
        window: w?.ops.map((o) => describeOp((o as (typeof lin)[number]).source)),
      });
    }
    findings.push(...checkSequential(key, ops));
  }
  return { keys: byKey.size, linearizable, unknown, findings };
}

/**
 * Sequential consistency as ZooKeeper promises it for every read: within one session versions
 * never go backwards (reads, and the versions its own writes got), one version always carries one
 * value, and a value read was written by some operation (or is the initial value).
 */
export function checkSequential(key: string, ops: readonly RegisterOp[]): Finding[] {
  const findings: Finding[] = [];
  const written = new Set(ops.filter((o) => o.value !== undefined).map((o) => o.value!));
  const valueAt = new Map<number, { value: string; op: RegisterOp }>();
  const lastBySession = new Map<string, RegisterOp>();
  const sorted = [...ops].sort((a, b) => a.call - b.call);
  for (const o of sorted) {
    if (o.type !== 'ok' || o.version === undefined) continue;
    const value = o.f.endsWith('read') ? o.read : o.value;
    if (value !== undefined) {
      if (o.f.endsWith('read') && o.version > 0 && !written.has(value)) {
        findings.push({ checker: 'sequential', message: `${key}: read a value nobody wrote`, window: [describeOp(o)] });
      }
      const prior = valueAt.get(o.version);
      if (prior && prior.value !== value) {
        findings.push({ checker: 'sequential', message: `${key}: version ${o.version} seen with two values`, window: [describeOp(prior.op), describeOp(o)] });
      } else if (!prior) valueAt.set(o.version, { value, op: o });
    }
    const last = lastBySession.get(o.session);
    if (last && last.version! > o.version) {
      findings.push({ checker: 'sequential', message: `${key}: session ${o.session} went back from version ${last.version} to ${o.version}`, window: [describeOp(last), describeOp(o)] });
    }
    if (!last || o.version >= last.version!) lastBySession.set(o.session, o);
  }
  return findings;
}

// ------------------------------------------------------------------------------ creates

export interface CreateReport {
  attempted: number;
  acked: number;
  unknown: number;
  present: number;
  findings: Finding[];
}

export function checkCreates(h: Pick<History, 'creates' | 'finalSets'>, parent: string): CreateReport {
  const name = (p: string) => p.slice(parent.length + 1);
  const acked = new Set(h.creates.filter((c) => c.type === 'ok').map((c) => name(c.path)));
  const attempted = new Set(h.creates.filter((c) => c.type !== 'fail' || c.error === 'NodeExists').map((c) => name(c.path)));
  const findings: Finding[] = [];
  const members = Object.entries(h.finalSets);
  for (const c of h.creates) {
    if (c.type === 'fail' && c.error === 'NodeExists') {
      findings.push({ checker: 'creates', message: `create ${c.path} failed with NodeExists, but nobody else ever created that name`, window: [`[${fmtT(c.call)} .. ${fmtT(c.ret)}] client ${c.client}`] });
    }
  }
  let reference: Set<string> | undefined;
  for (const [member, set] of members) {
    if (!set) {
      findings.push({ checker: 'creates', message: `member ${member} could not be read after healing` });
      continue;
    }
    const present = new Set(set);
    const lost = [...acked].filter((n) => !present.has(n));
    const phantom = [...present].filter((n) => !attempted.has(n));
    if (lost.length > 0) findings.push({ checker: 'creates', message: `member ${member}: ${lost.length} acknowledged creates missing: ${lost.slice(0, 10).join(', ')}` });
    if (phantom.length > 0) findings.push({ checker: 'creates', message: `member ${member}: ${phantom.length} nodes nobody created: ${phantom.slice(0, 10).join(', ')}` });
    if (reference && (reference.size !== present.size || [...present].some((n) => !reference!.has(n)))) {
      findings.push({ checker: 'creates', message: `member ${member} holds a different set (${present.size} nodes vs ${reference.size})` });
    }
    reference ??= present;
  }
  return {
    attempted: h.creates.length,
    acked: acked.size,
    unknown: h.creates.filter((c) => c.type === 'info').length,
    present: reference?.size ?? 0,
    findings,
  };
}

// ------------------------------------------------------------------------------ exclusion

export interface ExclusionReport {
  holds: number;
  /** Longest stretch of the run with no holder at all (liveness of the recipe, reported only). */
  longestIdleMs: number;
  overlaps: number;
  excused: number;
  findings: Finding[];
}

/**
 * Holders (of the Mutex, or LeaderLatch leaders) must not overlap. ZooKeeper can promise that only
 * to a holder that hears of trouble in time: a client drops a silent connection after 2/3 of the
 * session timeout (plus its check interval), before the session can expire, so a holder that
 * gives up on `suspended` is out before anyone else can get in. That reasoning fails when the
 * holder's own process was stalled (it cannot notice anything), so an overlap during a stall of
 * the workload process longer than `sessionTimeoutMs / 6` is reported as excused, not as a
 * violation. `end` is when the holder gave up (release, suspended, lost).
 */
export function checkExclusion(holds: readonly HoldInterval[], stalls: History['stalls'], sessionTimeoutMs: number, window?: { start: number; end: number }): ExclusionReport {
  const findings: Finding[] = [];
  let overlaps = 0;
  let excused = 0;
  const sorted = [...holds].sort((a, b) => a.start - b.start);
  const margin = sessionTimeoutMs / 6;
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length && sorted[j]!.start < sorted[i]!.end; j++) {
      const a = sorted[i]!;
      const b = sorted[j]!;
      if (a.node === b.node) continue;
      const lo = b.start;
      const hi = Math.min(a.end, b.end);
      const stalled = stalls.some((s) => s.ms > margin && s.at < hi && s.at + s.ms > a.start - sessionTimeoutMs);
      const describe = (x: HoldInterval) => `${x.what} client ${x.client} ${x.node} held [${fmtT(x.start)} .. ${fmtT(x.end)}] (${x.endReason})`;
      if (stalled) excused++;
      else {
        overlaps++;
        findings.push({ checker: 'exclusion', message: `${a.what}: two holders for ${(hi - lo).toFixed(0)} ms`, window: [describe(a), describe(b)] });
      }
    }
  }
  return { holds: holds.length, longestIdleMs: longestIdle(sorted, window), overlaps, excused, findings };
}

function longestIdle(sorted: readonly HoldInterval[], window?: { start: number; end: number }): number {
  if (!window) return 0;
  let covered = window.start;
  let idle = 0;
  for (const h of sorted) {
    if (h.start > covered) idle = Math.max(idle, Math.min(h.start, window.end) - covered);
    covered = Math.max(covered, h.end);
  }
  return Math.max(idle, window.end - covered);
}

/**
 * Lock-fenced writes (multi: check(our lock node), setData) in zxid order: once a later holder has
 * written, an earlier holder never writes again. This holds whatever the clients believed, because
 * ZooKeeper refuses the write once the holder's node is gone.
 */
export function checkFencing(fenced: readonly FencedWrite[]): Finding[] {
  const sorted = [...fenced].sort((a, b) => (BigInt(a.zxid) < BigInt(b.zxid) ? -1 : 1));
  const done = new Set<string>();
  let current: string | undefined;
  for (const w of sorted) {
    if (w.node === current) continue;
    if (done.has(w.node)) {
      return [{ checker: 'fencing', message: `fenced write at zxid 0x${BigInt(w.zxid).toString(16)} by ${w.node} after a later holder (${current}) had written` }];
    }
    if (current) done.add(current);
    current = w.node;
  }
  return [];
}

// ------------------------------------------------------------------------------ sessions

/**
 * SessionMoved means the session is owned by another server now; a client that keeps its
 * connection and keeps getting it has a session no server will act for. A stretch of only
 * SessionMoved answers on one session longer than `limitMs` is reported.
 */
export function checkSessionMoved(h: Pick<History, 'registers' | 'creates'>, limitMs: number): Finding[] {
  const bySession = new Map<string, (RegisterOp | (CreateOp & { session?: string; server?: string }))[]>();
  for (const o of [...h.registers, ...(h.creates as (CreateOp & { session?: string })[])]) {
    const s = o.session;
    if (s === undefined || (o as RegisterOp).f === 'read' || (o as RegisterOp).f === 'plain-read') continue;
    bySession.set(s, [...(bySession.get(s) ?? []), o]);
  }
  const findings: Finding[] = [];
  for (const [session, ops] of bySession) {
    ops.sort((a, b) => a.call - b.call);
    let start: number | undefined;
    let count = 0;
    const flush = (end: number) => {
      if (start !== undefined && end - start > limitMs) {
        const where = (ops.find((o) => o.call >= start! && o.error === 'SessionMoved') as RegisterOp | undefined)?.server;
        findings.push({ checker: 'sessions', message: `session ${session}: every write answered SessionMoved for ${fmtT(end - start)} (${count} writes, from ${fmtT(start)}${where ? `, via ${where}` : ''})` });
      }
      start = undefined;
      count = 0;
    };
    for (const o of ops) {
      if (o.error === 'SessionMoved') {
        start ??= o.call;
        count++;
      } else if (o.type !== 'info') flush(o.call);
    }
    flush(ops.length > 0 ? Math.max(...ops.map((o) => (Number.isFinite(o.ret) ? o.ret : o.call))) : 0);
  }
  return findings;
}

// ------------------------------------------------------------------------------ availability

export interface Unavailability {
  /** Longest gap between successful quorum operations over the whole run, in ms. */
  longestMs: number;
  /** Longest gap that overlaps a fault of each kind. */
  byKind: Record<string, number>;
}

/** Quorum operations: writes, cas answered by ZooKeeper (ok or BadVersion), sync+reads, creates. */
export function quorumSuccesses(h: Pick<History, 'registers' | 'creates'>): number[] {
  const regs = h.registers.filter((o) => o.f !== 'plain-read' && (o.type === 'ok' || (o.type === 'fail' && o.error === 'BadVersion'))).map((o) => o.ret);
  const creates = h.creates.filter((c) => c.type === 'ok').map((c) => c.ret);
  return [...regs, ...creates].sort((a, b) => a - b);
}

export function unavailability(h: Pick<History, 'registers' | 'creates' | 'faults'>, runStart: number, runEnd: number): Unavailability {
  const times = [runStart, ...quorumSuccesses(h).filter((t) => t >= runStart && t <= runEnd), runEnd];
  const gaps: [number, number][] = [];
  for (let i = 1; i < times.length; i++) gaps.push([times[i - 1]!, times[i]!]);
  const byKind: Record<string, number> = {};
  for (const f of h.faults) {
    const worst = Math.max(0, ...gaps.filter(([a, b]) => a < f.end && b > f.start).map(([a, b]) => b - a));
    byKind[f.kind] = Math.max(byKind[f.kind] ?? 0, worst);
  }
  return { longestMs: Math.max(0, ...gaps.map(([a, b]) => b - a)), byKind };
}
