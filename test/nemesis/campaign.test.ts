/**
 * The nemesis campaign reads each run's summary line and findings, and its totals keep the worst
 * unavailability per fault kind with the seed that produced it, counting every non-zero exit as failed.
 */
import { aggregate, formatTotals, HelpAsked, parseCampaignArgs, parseRun } from '../../scripts/lib/nemesis-campaign';

const summary = (seed: number, kinds: string, worst: string, overlaps = 0) =>
  `nemesis seed=${seed} members=3 secs=60 PASS: 812 ops (ok 700, fail 12, info 100); registers 13/13 keys linearizable; ` +
  `creates 150 acked, 151 present, 3 unknown; mutex 40 holds (longest without a holder 4.1 s), ${overlaps} overlaps (+1 excused), 40 fenced writes; ` +
  `latch 9 terms (longest without a leader 3.0 s), 2 overlaps; faults 11; worst unavailability ${worst} s (${kinds})`;

const meta = (seed: number, code = 0) => ({ seed, members: 3, code, wallMs: 90_000, load: { mean: 2, max: 3 } });

describe('nemesis campaign', () => {
  test('a run is read from its output: counts, findings and unavailability per fault kind', () => {
    const out = ['[  1.4s] ensemble serving', 'FAIL [linearizability] /r3 is not linearizable', '    [0.1s ..] x', summary(7, 'kill 1.2 s, isolate-leader 3.5 s', '3.5')].join('\n');
    const r = parseRun(out, meta(7, 1));
    expect(r).toMatchObject({ seed: 7, ops: 812, faults: 11, ackedCreates: 150, mutexHolds: 40, overlaps: 2, worstMs: 3500, byKind: { kill: 1200, 'isolate-leader': 3500 } });
    expect(r.findings).toEqual(['FAIL [linearizability] /r3 is not linearizable']);
  });

  test('a run that printed no summary (setup failed) counts as failed with nothing measured', () => {
    const r = parseRun('the ensemble did not form within 60 s', meta(9, 2));
    expect(r.summary).toBeUndefined();
    const t = aggregate([r, parseRun(summary(10, 'kill 0.5 s', '0.9'), meta(10))]);
    expect(t).toMatchObject({ runs: 2, passed: 1, failed: [9], ops: 812, worst: { ms: 900, seed: 10 } });
  });

  test('totals keep the worst per fault kind and its seed', () => {
    const t = aggregate([
      parseRun(summary(1, 'kill 1.0 s, pause 4.0 s', '4.0'), meta(1)),
      parseRun(summary(2, 'kill 2.5 s, split 1.0 s', '2.5', 1), meta(2)),
    ]);
    expect(t.byKind).toEqual({ kill: { runs: 2, ms: 2500, seed: 2 }, pause: { runs: 1, ms: 4000, seed: 1 }, split: { runs: 1, ms: 1000, seed: 2 } });
    expect(t.overlaps).toBe(2 + 2 + 1);
    expect(t.worst).toEqual({ ms: 4000, seed: 1 });
    expect(formatTotals(t, 3, 60).slice(2)).toEqual([
      '| fault kind | runs with it | worst unavailability | seed |',
      '|---|---|---|---|',
      '| pause | 1 | 4.0 s | 1 |',
      '| kill | 2 | 2.5 s | 2 |',
      '| split | 1 | 1.0 s | 2 |',
    ]);
  });

  test('arguments: --help asks for the usage; unknown options, missing values and bad numbers are refused', () => {
    expect(() => parseCampaignArgs(['--help'])).toThrow(HelpAsked);
    expect(() => parseCampaignArgs(['--runs', '2', '-h'])).toThrow(HelpAsked);
    expect(() => parseCampaignArgs(['--bogus', '1'])).toThrow(/unknown argument '--bogus'/);
    expect(() => parseCampaignArgs(['5'])).toThrow(/unknown argument '5'/);
    expect(() => parseCampaignArgs(['--runs'])).toThrow(/--runs needs a value/);
    expect(() => parseCampaignArgs(['--runs', '--secs', '5'])).toThrow(/--runs needs a value/);
    expect(() => parseCampaignArgs(['--members', '4'])).toThrow(/usage/);
    expect(() => parseCampaignArgs(['--secs', 'x'])).toThrow(/usage/);
    expect(parseCampaignArgs([])).toEqual({ runs: 20, secs: 60, members: 3, firstSeed: 3001, out: undefined, extra: [] });
    // After `--`, everything is the nemesis run's, even what looks like an option.
    expect(parseCampaignArgs(['--members', '5', '--', '--tick-time', '2000', '--help'])).toMatchObject({ members: 5, firstSeed: 5001, extra: ['--tick-time', '2000', '--help'] });
  });
});
