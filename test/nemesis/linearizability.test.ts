/**
 * The nemesis's linearizability checker (Wing–Gong with Lowe's memoisation) gives the right verdict
 * on hand-made linearizable and non-linearizable register histories, treats unknown outcomes as
 * maybe-applied, finds the smallest failing window, and stays fast on long concurrent histories.
 */
import { Prng } from '../../src/util/prng';
import {
  checkOperations,
  cutAt,
  registerModel,
  smallestFailingWindow,
  type Operation,
  type RegisterInput,
  type RegisterOutput,
  type RegisterState,
  UNKNOWN_REGISTER,
} from '../../scripts/lib/nemesis-linearizability';

type Op = Operation<RegisterInput, RegisterOutput>;
const model = registerModel([{ value: 'init', version: 0 }]);
const W = (call: number, ret: number, value: string, version?: number): Op => ({ call, ret, input: { f: 'write', value }, output: version === undefined ? undefined : { version } });
const R = (call: number, ret: number, value: string, version: number): Op => ({ call, ret, input: { f: 'read' }, output: { value, version } });
const CAS = (call: number, ret: number, expected: number, value: string, out: RegisterOutput | undefined): Op => ({ call, ret, input: { f: 'cas', expected, value }, output: out });
const info = (o: Op): Op => ({ ...o, ret: Infinity, output: undefined });
const verdict = (ops: Op[]) => checkOperations(model, ops).verdict;

describe('register histories', () => {
  test.each<[string, Op[], string]>([
    ['empty', [], 'linearizable'],
    ['write then read sees it', [W(0, 1, 'a', 1), R(2, 3, 'a', 1)], 'linearizable'],
    ['stale read after a completed write', [W(0, 1, 'a', 1), R(2, 3, 'init', 0)], 'not-linearizable'],
    ['read concurrent with a write may see the old value', [W(0, 10, 'a', 1), R(2, 3, 'init', 0)], 'linearizable'],
    ['read concurrent with a write may see the new value', [W(0, 10, 'a', 1), R(2, 3, 'a', 1)], 'linearizable'],
    ['a read cannot see a value nobody wrote', [W(0, 1, 'a', 1), R(2, 3, 'b', 1)], 'not-linearizable'],
    ['a value cannot come back after it was overwritten', [W(0, 1, 'a', 1), W(2, 3, 'b', 2), R(4, 5, 'a', 1)], 'not-linearizable'],
    ['concurrent reads may see both orders only if the write allows it', [W(0, 10, 'a', 1), R(1, 2, 'a', 1), R(3, 4, 'init', 0)], 'not-linearizable'],
    ['two writes report the same version', [W(0, 1, 'a', 1), W(2, 3, 'b', 1)], 'not-linearizable'],
    ['concurrent writes get versions in either order', [W(0, 10, 'a', 2), W(1, 9, 'b', 1), R(11, 12, 'a', 2)], 'linearizable'],
    ['cas with the right version succeeds', [CAS(0, 1, 0, 'a', { version: 1 }), R(2, 3, 'a', 1)], 'linearizable'],
    ['two cas from the same version cannot both succeed', [CAS(0, 5, 0, 'a', { version: 1 }), CAS(1, 6, 0, 'b', { version: 1 })], 'not-linearizable'],
    ['BadVersion when nothing changed the version is a violation', [CAS(0, 1, 0, 'a', { failed: true })], 'not-linearizable'],
    ['BadVersion explained by a concurrent write', [W(0, 5, 'a', 1), CAS(1, 6, 0, 'b', { failed: true })], 'linearizable'],
    ['a lost acknowledged write', [W(0, 1, 'a', 1), W(2, 3, 'b', 2), R(4, 5, 'a', 1)], 'not-linearizable'],
  ])('%s', (_name, ops, expected) => {
    expect(verdict(ops)).toBe(expected);
  });

  test('an unknown-outcome write is maybe-applied: seen or not seen, but never seen then unseen', () => {
    const w = info(W(0, 1, 'a'));
    expect(verdict([w, R(5, 6, 'a', 1)])).toBe('linearizable');
    expect(verdict([w, R(5, 6, 'init', 0)])).toBe('linearizable');
    expect(verdict([w, R(5, 6, 'a', 1), R(7, 8, 'init', 0)])).toBe('not-linearizable');
    // It can take effect late, after reads that did not see it.
    expect(verdict([w, R(5, 6, 'init', 0), R(7, 8, 'a', 1)])).toBe('linearizable');
    // But not before it was called.
    expect(verdict([R(0, 1, 'a', 1), info(W(2, 3, 'a'))])).toBe('not-linearizable');
  });

  test('an unknown-outcome cas applies only if its version matched', () => {
    const cas = info(CAS(0, 1, 0, 'a', undefined));
    expect(verdict([cas, R(5, 6, 'a', 1)])).toBe('linearizable');
    expect(verdict([W(0, 1, 'x', 1), info(CAS(2, 3, 0, 'a', undefined)), R(5, 6, 'a', 2)])).toBe('not-linearizable');
  });

  test('the history cut at a time keeps what was known then', () => {
    const ops = [W(0, 10, 'a', 1), R(2, 3, 'init', 0), R(11, 12, 'a', 1)];
    expect(cutAt(ops, 5)).toEqual([{ ...ops[0], ret: Infinity, output: undefined }, ops[1]]);
  });
});

describe('smallest failing window', () => {
  test('points at the stale read and the write it missed, not at the long healthy prefix', () => {
    const ops: Op[] = [];
    let t = 0;
    for (let v = 1; v <= 50; v++) {
      ops.push(W(t, t + 1, `v${v}`, v));
      ops.push(R(t + 2, t + 3, `v${v}`, v));
      t += 4;
    }
    ops.push(W(t, t + 1, 'last', 51));
    ops.push(R(t + 2, t + 3, 'v50', 50)); // stale
    ops.push(W(t + 4, t + 5, 'after', 52));
    expect(verdict(ops)).toBe('not-linearizable');
    const w = smallestFailingWindow(model, ops, [UNKNOWN_REGISTER])!;
    expect(w.until).toBe(t + 3);
    expect(w.ops.map((o) => model.describe!(o.input, o.output))).toEqual(['write "last" -> v51', 'read -> "v50"@v50']);
  });

  test('is undefined for a linearizable history', () => {
    expect(smallestFailingWindow(model, [W(0, 1, 'a', 1)], [{ value: 'init', version: 0 }])).toBeUndefined();
  });
});

/** A real register driven by concurrent clients: every op takes effect at a random point of its interval. */
function simulate(seed: number, nOps: number, clients: number, unknownRate: number): Op[] {
  const rng = new Prng(seed);
  const reg: RegisterState = { value: 'init', version: 0 };
  const free = Array.from({ length: clients }, () => 0);
  const events: { at: number; run: () => void }[] = [];
  const ops: Op[] = [];
  for (let i = 0; i < nOps; i++) {
    const c = rng.int(clients);
    const call = free[c]! + rng.range(0, 5);
    const effect = call + rng.range(0, 20);
    const ret = effect + rng.range(0, 20);
    free[c] = ret + 1;
    const kind = rng.int(3);
    const op: Op = kind === 0 ? { call, ret, input: { f: 'read' } } : kind === 1 ? { call, ret, input: { f: 'write', value: `w${i}` } } : { call, ret, input: { f: 'cas', expected: rng.int(3) + Math.max(0, i / 3 - 3) | 0, value: `c${i}` } };
    ops.push(op);
    const lost = rng.bool(unknownRate);
    events.push({
      at: effect + i / (nOps + 1),
      run: () => {
        const inp = op.input;
        if (inp.f === 'read') op.output = { ...reg };
        else if (inp.f === 'write') {
          reg.version += 1;
          reg.value = inp.value;
          op.output = { version: reg.version };
        } else if (reg.version === inp.expected) {
          reg.version += 1;
          reg.value = inp.value;
          op.output = { version: reg.version };
        } else op.output = { failed: true };
        if (lost) {
          op.ret = Infinity;
          op.output = undefined;
        }
      },
    });
  }
  events.sort((a, b) => a.at - b.at).forEach((e) => e.run());
  // Unknown reads tell nothing: the workload drops them.
  return ops.filter((o) => !(o.input.f === 'read' && o.output === undefined));
}

describe('long concurrent histories', () => {
  test.each([1, 2, 3, 4, 5])('seed %i: 600 ops over 6 clients with 5%% unknown outcomes are linearizable, and one corrupted read is caught', (seed) => {
    const ops = simulate(seed, 600, 6, 0.05);
    const ok = checkOperations(model, ops);
    expect(ok.verdict).toBe('linearizable');
    // Corrupt a read that began after some acknowledged change: it claims the initial state.
    const firstChange = Math.min(...ops.filter((o) => o.input.f !== 'read' && o.output && !o.output.failed && Number.isFinite(o.ret)).map((o) => o.ret));
    const i = ops.findIndex((o) => o.input.f === 'read' && o.call > firstChange);
    const bad = ops.map((o, k) => (k === i ? { ...o, output: { value: 'init', version: 0 } } : o));
    expect(checkOperations(model, bad).verdict).toBe('not-linearizable');
  });
});
