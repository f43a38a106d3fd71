/**
 * The nemesis's linearizability search agrees with porcupine on porcupine's 102 Jepsen etcd
 * compare-and-set register histories (23 linearizable, 79 not). The histories are not part of this
 * repository: point PORCUPINE_TEST_DATA at a checkout's test_data/jepsen directory (with the
 * expected verdicts from porcupine_test.go in expected.txt, one `checkJepsen(t, N, bool)` per line)
 * to run it; skipped otherwise.
 */
import fs from 'node:fs';
import path from 'node:path';
import { checkOperations, type Model, type Operation } from '../../scripts/lib/nemesis-linearizability';

const DIR = process.env.PORCUPINE_TEST_DATA;

type Input = { op: 'read' } | { op: 'write'; a: number } | { op: 'cas'; a: number; b: number };
type Output = { exists?: boolean; value?: number; ok?: boolean; unknown?: boolean };
const NIL = -1_000_000;

/** Jepsen's etcd register: values, not versions; cas(a, b) compares values. */
const etcdModel: Model<number, Input, Output> = {
  init: [NIL],
  hash: (s) => String(s),
  step(st, inp, out) {
    if (inp.op === 'read') return !out || out.unknown || (out.exists ? st === out.value : st === NIL) ? [st] : [];
    if (inp.op === 'write') return [inp.a];
    const matches = inp.a === st;
    if (!out || out.unknown) return [matches ? inp.b : st];
    return matches === out.ok ? [matches ? inp.b : st] : [];
  },
};

const LINE = /^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(invoke|ok|fail)\s+:(read|write|cas)\s+(.*)$/;

/** Jepsen's log as operations: time = line number; an invocation never answered is unknown. */
function parse(text: string): Operation<Input, Output>[] {
  const ops: Operation<Input, Output>[] = [];
  const open = new Map<string, Operation<Input, Output>>();
  text.split('\n').forEach((line, t) => {
    const m = LINE.exec(line);
    if (!m) return;
    const [, proc, type, f, arg] = m as unknown as [string, string, string, string, string];
    if (type === 'invoke') {
      const cas = /^\[(\d+)\s+(\d+)\]$/.exec(arg);
      const input: Input = f === 'read' ? { op: 'read' } : f === 'write' ? { op: 'write', a: Number(arg) } : { op: 'cas', a: Number(cas![1]), b: Number(cas![2]) };
      const o: Operation<Input, Output> = { call: t, ret: Infinity, input };
      ops.push(o);
      open.set(proc, o);
      return;
    }
    const o = open.get(proc)!;
    open.delete(proc);
    o.ret = t;
    if (arg === ':timed-out') o.output = { unknown: true };
    else if (f === 'read') o.output = arg === 'nil' ? { exists: false } : { exists: true, value: Number(arg) };
    else if (f === 'cas') o.output = { ok: type === 'ok' };
    else o.output = {};
  });
  return ops;
}

function expectedVerdicts(dir: string): (readonly [number, boolean])[] {
  return fs
    .readFileSync(path.join(dir, 'expected.txt'), 'utf8')
    .split('\n')
    .flatMap((l) => {
      const m = /checkJepsen\(t, (\d+), (true|false)\)/.exec(l);
      return m ? [[Number(m[1]), m[2] === 'true'] as const] : [];
    });
}

if (DIR && fs.existsSync(path.join(DIR, 'expected.txt'))) {
  describe("porcupine's Jepsen etcd histories", () => {
    test.each(expectedVerdicts(DIR))('etcd_%i: linearizable = %s', (n, linearizable) => {
      const ops = parse(fs.readFileSync(path.join(DIR, `etcd_${String(n).padStart(3, '0')}.log`), 'utf8'));
      expect(checkOperations(etcdModel, ops, { maxSteps: 50_000_000 }).verdict).toBe(linearizable ? 'linearizable' : 'not-linearizable');
    });
  });
} else {
  test.skip("porcupine's Jepsen etcd histories (set PORCUPINE_TEST_DATA to run)", () => undefined);
}
