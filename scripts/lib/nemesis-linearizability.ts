/**
 * A linearizability checker: Wing & Gong's search with Lowe's memoisation, as porcupine
 * (anishathalye/porcupine) implements it, written here in TypeScript. Pure: no I/O, no clocks
 * (the optional time budget is counted in search steps).
 *
 * The history is a set of operations, each an interval [call, ret] (closed, as in porcupine) with
 * an input and, when it completed, an output. An operation whose outcome is unknown (a timeout, a
 * lost connection) has `ret = Infinity` and no output: it may be linearized anywhere after its call,
 * including after everything else, where its effect is invisible, so it counts as "maybe applied".
 *
 * The model may be nondeterministic: `step` returns every state the operation can lead to (none =
 * the output is impossible in that state). The search keeps a stack of linearized calls; a call is
 * tried only if (set of linearized ops, resulting state) was never seen before (Lowe's cache), so
 * each configuration is explored once. Configurations are keyed by a 64-bit Zobrist hash of the set
 * (two 32-bit words) plus the model's state hash.
 */

export interface Model<S, I, O> {
  /** Possible initial states (usually one). */
  init: readonly S[];
  /** States reachable by applying `input` to `s` with result `output` (undefined = unknown). */
  step(s: S, input: I, output: O | undefined): readonly S[];
  hash(s: S): string;
  /** For reports. */
  describe?(input: I, output: O | undefined): string;
}

export interface Operation<I, O> {
  /** Invocation time. */
  call: number;
  /** Completion time; Infinity when the outcome is unknown. */
  ret: number;
  input: I;
  output?: O;
  /** Free-form label for reports (client, key...). */
  label?: string;
}

export type Verdict = 'linearizable' | 'not-linearizable' | 'unknown';

export interface CheckResult {
  verdict: Verdict;
  /** Search steps taken. */
  steps: number;
  /** Largest number of operations linearized at once (how far the best attempt got). */
  longestPrefix: number;
}

interface Entry {
  op: number; // index into ops
  isCall: boolean;
  time: number;
  match: Entry | undefined; // call -> its return
  prev: Entry | undefined;
  next: Entry | undefined;
}

interface Frame<S> {
  entry: Entry;
  prev: S;
  alts: readonly S[];
  alt: number;
}

/** Deterministic 32-bit words for the Zobrist hash (a fixed LCG: results must not vary by run). */
function zobristWords(n: number, salt: number): Uint32Array {
  const w = new Uint32Array(n);
  let x = (0x9e3779b9 ^ salt) >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    w[i] = (z ^ (z >>> 16)) >>> 0;
  }
  return w;
}

/** The doubly linked list of call/return entries, sorted by time (calls first on ties). */
function buildList<I, O>(ops: readonly Operation<I, O>[]): Entry {
  const entries: Entry[] = [];
  ops.forEach((o, i) => {
    const ret: Entry = { op: i, isCall: false, time: o.ret, match: undefined, prev: undefined, next: undefined };
    const call: Entry = { op: i, isCall: true, time: o.call, match: ret, prev: undefined, next: undefined };
    entries.push(call, ret);
  });
  entries.sort((a, b) => (a.time !== b.time ? a.time - b.time : a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1));
  const head: Entry = { op: -1, isCall: false, time: -Infinity, match: undefined, prev: undefined, next: undefined };
  let last = head;
  for (const e of entries) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  return head;
}

function lift(call: Entry): void {
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

function unlift(call: Entry): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

/** Checks one history from one initial state. */
function searchFrom<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], init: S, maxSteps: number): CheckResult {
  const head = buildList(ops);
  const z1 = zobristWords(ops.length, 1);
  const z2 = zobristWords(ops.length, 2);
  let h1 = 0;
  let h2 = 0;
  const seen = new Set<string>();
  const stack: Frame<S>[] = [];
  let state = init;
  let entry = head.next;
  let steps = 0;
  let longest = 0;

  /** Tries alternatives from `from` for the call `e`; true when one was taken (state advanced). */
  const tryAlternatives = (e: Entry, alts: readonly S[], from: number): boolean => {
    for (let k = from; k < alts.length; k++) {
      const next = alts[k]!;
      const key = `${(h1 ^ z1[e.op]!) >>> 0}:${(h2 ^ z2[e.op]!) >>> 0}:${model.hash(next)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      h1 ^= z1[e.op]!;
      h2 ^= z2[e.op]!;
      stack.push({ entry: e, prev: state, alts, alt: k });
      state = next;
      lift(e);
      longest = Math.max(longest, stack.length);
      return true;
    }
    return false;
  };

  while (head.next) {
    if (++steps > maxSteps) return { verdict: 'unknown', steps, longestPrefix: longest };
    if (entry === undefined) throw new Error('linearizability search ran off the end of the history');
    if (entry.isCall) {
      const o = ops[entry.op]!;
      if (tryAlternatives(entry, model.step(state, o.input, o.output), 0)) entry = head.next;
      else entry = entry.next;
      continue;
    }
    // A return whose call is not linearized yet: undo the last choice and try its next alternative.
    const frame = stack.pop();
    if (!frame) return { verdict: 'not-linearizable', steps, longestPrefix: longest };
    state = frame.prev;
    h1 ^= z1[frame.entry.op]!;
    h2 ^= z2[frame.entry.op]!;
    unlift(frame.entry);
    if (tryAlternatives(frame.entry, frame.alts, frame.alt + 1)) entry = head.next;
    else entry = frame.entry.next;
  }
  return { verdict: 'linearizable', steps, longestPrefix: ops.length };
}

/** Checks a history against the model from each of its initial states. */
export function checkOperations<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], opts: { maxSteps?: number } = {}): CheckResult {
  const maxSteps = opts.maxSteps ?? 5_000_000;
  let steps = 0;
  let longest = 0;
  let unknown = false;
  for (const init of model.init) {
    const r = searchFrom(model, ops, init, maxSteps - steps);
    steps += r.steps;
    longest = Math.max(longest, r.longestPrefix);
    if (r.verdict === 'linearizable') return { verdict: 'linearizable', steps, longestPrefix: ops.length };
    if (r.verdict === 'unknown') unknown = true;
  }
  return { verdict: unknown ? 'unknown' : 'not-linearizable', steps, longestPrefix: longest };
}

/**
 * The history as it stood at time `t`: operations called after `t` are dropped and those still
 * running at `t` become unknown-outcome. Cutting a linearizable history this way leaves it
 * linearizable, so the earliest failing cut is where the violation became certain.
 */
export function cutAt<I, O>(ops: readonly Operation<I, O>[], t: number): Operation<I, O>[] {
  return ops.filter((o) => o.call <= t).map((o) => (o.ret <= t ? o : { ...o, ret: Infinity, output: undefined }));
}

export interface FailingWindow<I, O> {
  /** The violation is certain once the history reaches this time. */
  until: number;
  /** Start of the shortest window whose operations alone already fail, from any state. */
  from: number;
  ops: Operation<I, O>[];
}

/**
 * The smallest failing window of a non-linearizable history: first the earliest cut time `until`
 * that fails (binary search over event times), then the latest start `from` such that the
 * operations overlapping [from, until] fail from *every* state the history could have reached
 * (`anyState`). Operations that began before `from` may have taken effect before it, so they are
 * kept as optional (they may be linearized or skipped).
 */
export function smallestFailingWindow<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  anyState: readonly S[],
  opts: { maxSteps?: number } = {},
): FailingWindow<I, O> | undefined {
  const fails = <J>(h: readonly Operation<J, O>[], m: Model<S, J, O>) => checkOperations(m, h, opts).verdict === 'not-linearizable';
  const times = [...new Set(ops.flatMap((o) => [o.call, o.ret]).filter((t) => Number.isFinite(t)))].sort((a, b) => a - b);
  if (times.length === 0 || !fails(cutAt(ops, times[times.length - 1]!), model)) return undefined;
  let lo = 0;
  let hi = times.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (fails(cutAt(ops, times[mid]!), model)) hi = mid;
    else lo = mid + 1;
  }
  const until = times[lo]!;
  const cut = cutAt(ops, until);
  const windowOps = (from: number) => cut.filter((o) => o.ret >= from);
  const windowFails = (from: number): boolean => {
    const m: Model<S, OptionalInput<I>, O> = {
      init: anyState,
      hash: model.hash,
      // An operation that began before the window may already have taken effect: it may be skipped.
      step: (s, inp, out) => (inp.optional ? [s, ...model.step(s, inp.input, out)] : model.step(s, inp.input, out)),
    };
    const w = windowOps(from).map((o) => ({ ...o, input: { input: o.input, optional: o.call < from } }));
    return fails(w, m);
  };
  // Latest start first: the first window that fails on its own is the smallest. Bounded, so a long
  // history costs at most a few hundred searches; past that the whole cut is the window.
  const starts = times.filter((t) => t <= until).reverse().slice(0, 400);
  for (const from of starts) if (windowFails(from)) return { until, from, ops: windowOps(from) };
  return { until, from: times[0]!, ops: cut };
}

interface OptionalInput<I> {
  input: I;
  optional: boolean;
}

// ------------------------------------------------------------------ ZooKeeper register model

/** A znode used as a register: its data and its data version. */
export interface RegisterState {
  value: string;
  version: number;
}

/**
 * Register operations as the workload issues them:
 *  - write: setData(value, -1); output = the new version
 *  - cas: setData(value, expectedVersion); ok output = the new version, a BadVersion failure is a
 *    definite failure (`failed: true`), ZooKeeper ordered it and the version did not match
 *  - read: sync then getData; output = the state seen (plain getData reads are only sequentially
 *    consistent in ZooKeeper and are checked elsewhere)
 */
export type RegisterInput = { f: 'write'; value: string } | { f: 'cas'; expected: number; value: string } | { f: 'read' };
export type RegisterOutput = { version?: number; value?: string; failed?: boolean };

const applyWrite = (value: string, s: RegisterState): RegisterState => ({ value, version: s.version + 1 });

/**
 * "Any state": the register's content is not known (version -1). The first operation that reveals
 * it fixes it; operations that reveal nothing leave it unknown. Starting a window of history from
 * it over-approximates what the register could hold, so a window that still fails proves a violation.
 */
export const UNKNOWN_REGISTER: RegisterState = { value: '', version: -1 };

function stepUnknown(s: RegisterState, inp: RegisterInput, out: RegisterOutput | undefined): RegisterState[] {
  if (!out || out.failed || out.version === undefined) return [s];
  if (inp.f === 'read') return [{ value: out.value ?? '', version: out.version }];
  if (inp.f === 'cas' && out.version !== inp.expected + 1) return [];
  return [{ value: inp.value, version: out.version }];
}

export function registerModel(init: readonly RegisterState[] = [{ value: '', version: 0 }]): Model<RegisterState, RegisterInput, RegisterOutput> {
  return {
    init,
    hash: (s) => `${s.version}\u0000${s.value}`,
    step(s, inp, out) {
      if (s.version === UNKNOWN_REGISTER.version) return stepUnknown(s, inp, out);
      if (inp.f === 'read') {
        if (!out) return [s];
        return out.value === s.value && out.version === s.version ? [s] : [];
      }
      if (inp.f === 'write') {
        if (out && out.version !== s.version + 1) return [];
        return [applyWrite(inp.value, s)];
      }
      // cas
      const matches = s.version === inp.expected;
      if (!out) return [matches ? applyWrite(inp.value, s) : s];
      if (out.failed) return matches ? [] : [s];
      return matches && out.version === s.version + 1 ? [applyWrite(inp.value, s)] : [];
    },
    describe(inp, out) {
      const res = out === undefined ? '?' : out.failed ? 'BadVersion' : inp.f === 'read' ? `${JSON.stringify(out.value)}@v${out.version}` : `v${out.version}`;
      if (inp.f === 'read') return `read -> ${res}`;
      if (inp.f === 'write') return `write ${JSON.stringify(inp.value)} -> ${res}`;
      return `cas v${inp.expected} ${JSON.stringify(inp.value)} -> ${res}`;
    },
  };
}
