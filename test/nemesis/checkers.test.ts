/**
 * The nemesis's other checkers on hand-made histories: sequential consistency of plain reads,
 * acknowledged creates present and nothing unattempted, lock/latch holders never overlapping
 * (with stalls excused), fenced writes never interleaving, and unavailability per fault kind.
 */
import {
  checkCreates,
  checkExclusion,
  checkFencing,
  checkRegisters,
  checkSequential,
  checkSessionMoved,
  unavailability,
  type HoldInterval,
  type RegisterOp,
} from '../../scripts/lib/nemesis-checkers';

const op = (o: Partial<RegisterOp> & Pick<RegisterOp, 'f' | 'call' | 'ret'>): RegisterOp => ({ client: 1, session: 's1', key: '/k', type: 'ok', ...o });

describe('registers', () => {
  test('plain reads may be stale (sequential consistency), sync+reads may not (linearizability)', () => {
    const write = op({ client: 2, session: 's2', f: 'write', value: 'a', version: 1, call: 0, ret: 10 });
    const stalePlain = op({ f: 'plain-read', read: 'init', version: 0, call: 20, ret: 21 });
    const staleSynced = op({ f: 'read', read: 'init', version: 0, call: 20, ret: 21 });
    expect(checkRegisters({ registers: [write, stalePlain], initialValue: 'init' }).findings).toEqual([]);
    const r = checkRegisters({ registers: [write, staleSynced], initialValue: 'init' });
    expect(r.findings.map((f) => f.checker)).toEqual(['linearizability']);
    expect(r.findings[0]!.window).toEqual(['[0.000s .. 0.010s] client 2 /k write "a" -> v1', '[0.020s .. 0.021s] client 1 /k read -> "init"@v0']);
  });

  test('a session never goes back, even on plain reads; its own writes count', () => {
    const ops = [
      op({ f: 'write', value: 'a', version: 1, call: 0, ret: 1 }),
      op({ f: 'plain-read', read: 'init', version: 0, call: 2, ret: 3 }),
    ];
    expect(checkSequential('/k', ops).map((f) => f.message)).toEqual(['/k: session s1 went back from version 1 to 0']);
  });

  test('one version, one value; no value from nowhere', () => {
    const ops = [
      op({ f: 'write', value: 'a', version: 1, call: 0, ret: 1 }),
      op({ session: 's2', f: 'plain-read', read: 'b', version: 1, call: 2, ret: 3 }),
    ];
    expect(checkSequential('/k', ops).map((f) => f.message)).toEqual(['/k: read a value nobody wrote', '/k: version 1 seen with two values']);
  });

  test('unknown-outcome operations are maybe-applied', () => {
    const ops = [
      op({ f: 'write', value: 'a', call: 0, ret: 1, type: 'info', error: 'ConnectionLoss' }),
      op({ client: 2, session: 's2', f: 'read', read: 'a', version: 1, call: 5, ret: 6 }),
      op({ client: 2, session: 's2', f: 'cas', expected: 1, value: 'b', version: 2, call: 7, ret: 8 }),
      op({ client: 2, session: 's2', f: 'cas', expected: 1, value: 'c', call: 9, ret: 10, type: 'fail', error: 'BadVersion' }),
    ];
    const r = checkRegisters({ registers: ops, initialValue: 'init' });
    expect(r).toEqual({ keys: 1, linearizable: 1, unknown: 0, findings: [] });
  });
});

describe('creates', () => {
  const creates = [
    { client: 1, path: '/set/a', call: 0, ret: 1, type: 'ok' as const },
    { client: 1, path: '/set/b', call: 2, ret: 3, type: 'info' as const },
    { client: 1, path: '/set/c', call: 4, ret: 5, type: 'fail' as const, error: 'ConnectionLoss' },
  ];
  test('acknowledged present, unknown either way', () => {
    expect(checkCreates({ creates, finalSets: { '1': ['a'], '2': ['a'] } }, '/set').findings).toEqual([]);
    expect(checkCreates({ creates, finalSets: { '1': ['a', 'b'], '2': ['a', 'b'] } }, '/set').findings).toEqual([]);
  });
  test('a lost acknowledged create, a node nobody created, members that disagree', () => {
    const r = checkCreates({ creates, finalSets: { '1': ['b'], '2': ['a', 'zz'], '3': undefined } }, '/set');
    expect(r.findings.map((f) => f.message)).toEqual([
      'member 1: 1 acknowledged creates missing: a',
      'member 2: 1 nodes nobody created: zz',
      'member 2 holds a different set (2 nodes vs 1)',
      'member 3 could not be read after healing',
    ]);
  });
});

describe('exclusion', () => {
  const hold = (client: number, start: number, end: number): HoldInterval => ({ what: 'mutex', client, node: `n${client}`, start, end, endReason: 'released' });
  test('back-to-back holders are fine, overlapping ones are not', () => {
    expect(checkExclusion([hold(1, 0, 10), hold(2, 10, 20)], [], 3000).findings).toEqual([]);
    const r = checkExclusion([hold(1, 0, 10), hold(2, 5, 20)], [], 3000);
    expect(r.overlaps).toBe(1);
    expect(r.findings[0]!.message).toBe('mutex: two holders for 5 ms');
  });
  test('the longest stretch without a holder is measured over the run window', () => {
    expect(checkExclusion([hold(1, 100, 200), hold(2, 150, 300), hold(3, 900, 950)], [], 3000, { start: 0, end: 1000 }).longestIdleMs).toBe(600);
  });
  test('an overlap while the workload process itself was stalled is excused', () => {
    const r = checkExclusion([hold(1, 0, 5000), hold(2, 4000, 6000)], [{ at: 1000, ms: 2500 }], 3000);
    expect([r.overlaps, r.excused]).toEqual([0, 1]);
  });
  test('fenced writes of two holders never interleave in zxid order', () => {
    expect(checkFencing([{ client: 1, node: 'a', zxid: '1' }, { client: 1, node: 'a', zxid: '2' }, { client: 2, node: 'b', zxid: '3' }])).toEqual([]);
    expect(checkFencing([{ client: 1, node: 'a', zxid: '1' }, { client: 2, node: 'b', zxid: '3' }, { client: 1, node: 'a', zxid: '4' }])[0]!.message).toContain('by a after a later holder (b)');
  });
});

describe('sessions', () => {
  test('a session that only ever hears SessionMoved is reported; a brief one is not', () => {
    const moved = (t: number): RegisterOp => op({ f: 'write', value: `v${t}`, call: t, ret: t + 1, type: 'info', error: 'SessionMoved', server: 'm1' });
    const ok = (t: number): RegisterOp => op({ f: 'write', value: `v${t}`, version: 1, call: t, ret: t + 1 });
    expect(checkSessionMoved({ registers: [moved(0), moved(100), ok(200)], creates: [] }, 1000)).toEqual([]);
    expect(checkSessionMoved({ registers: [ok(0), moved(100), moved(1500), moved(2500)], creates: [] }, 1000).map((f) => f.message)).toEqual([
      'session s1: every write answered SessionMoved for 2.401s (3 writes, from 0.100s, via m1)',
    ]);
  });
});

describe('unavailability', () => {
  test('longest gap between quorum successes, attributed to the faults it overlaps', () => {
    const w = (ret: number): RegisterOp => op({ f: 'write', value: `v${ret}`, version: ret, call: ret - 1, ret });
    const u = unavailability(
      {
        registers: [w(100), w(200), w(1200), w(1300), op({ f: 'plain-read', read: 'x', version: 1, call: 1400, ret: 2500 })],
        creates: [],
        faults: [
          { kind: 'kill', target: 'm1', start: 150, end: 900 },
          { kind: 'pause', target: 'm2', start: 1250, end: 1280 },
        ],
      },
      0,
      1500,
    );
    expect(u).toEqual({ longestMs: 1000, byKind: { kill: 1000, pause: 100 } });
  });
});
