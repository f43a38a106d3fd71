/**
 * The pure half of a nemesis campaign: reads what one `nemesis` run printed (its summary line,
 * its findings, its exit code) into a record, and folds many records into the campaign's totals:
 * passes and failures, operations, faults, and the worst unavailability per fault kind with the
 * seed it came from. The shell (scripts/nemesis-campaign.ts) runs the processes and prints.
 */

export interface RunRecord {
  seed: number;
  members: number;
  /** nemesis's exit code: 0 pass, 1 a check failed, 2 setup, 77 skipped. */
  code: number;
  wallMs: number;
  /** 1-minute load average sampled while the run went on: mean and max. */
  load: { mean: number; max: number };
  /** The `nemesis seed=... PASS|FAIL ...` line, if the run got that far. */
  summary?: string;
  /** `FAIL [checker] message` lines. */
  findings: string[];
  ops: number;
  faults: number;
  ackedCreates: number;
  mutexHolds: number;
  overlaps: number;
  worstMs: number;
  /** Worst unavailability per fault kind in this run, ms. */
  byKind: Record<string, number>;
}

const secs = (s: string | undefined): number => Math.round(Number(s ?? 0) * 1000);
const num = (re: RegExp, line: string): number => Number(re.exec(line)?.[1] ?? 0);

/** Reads one run's output (stdout and stderr together) into a record. */
export function parseRun(out: string, r: Pick<RunRecord, 'seed' | 'members' | 'code' | 'wallMs' | 'load'>): RunRecord {
  const summary = /^nemesis seed=\d+ .*$/m.exec(out)?.[0];
  const findings = [...out.matchAll(/^FAIL \[.*$/gm)].map((m) => m[0]);
  const line = summary ?? '';
  const byKind: Record<string, number> = {};
  const kinds = /worst unavailability [\d.]+ s \(([^)]*)\)/.exec(line)?.[1] ?? '';
  for (const m of kinds.matchAll(/([a-z-]+) ([\d.]+) s/g)) byKind[m[1]!] = secs(m[2]);
  return {
    ...r,
    summary,
    findings,
    ops: num(/: (\d+) ops/, line),
    faults: num(/faults (\d+);/, line),
    ackedCreates: num(/creates (\d+) acked/, line),
    mutexHolds: num(/mutex (\d+) holds/, line),
    overlaps: num(/\), (\d+) overlaps/, line) + num(/latch \d+ terms \([^)]*\), (\d+) overlaps/, line),
    worstMs: secs(/worst unavailability ([\d.]+) s/.exec(line)?.[1]),
    byKind,
  };
}

export interface CampaignTotals {
  runs: number;
  passed: number;
  /** Seeds whose checks failed (exit 1) or that could not run (any other non-zero exit). */
  failed: number[];
  ops: number;
  faults: number;
  ackedCreates: number;
  mutexHolds: number;
  overlaps: number;
  worst: { ms: number; seed: number };
  /** Per fault kind: how many faults of it ran in all, and its worst unavailability with the seed. */
  byKind: Record<string, { runs: number; ms: number; seed: number }>;
  load: { mean: number; max: number };
}

/** Folds the runs into totals; worst-per-kind keeps the seed that produced it. */
export function aggregate(runs: RunRecord[]): CampaignTotals {
  const t: CampaignTotals = {
    runs: runs.length,
    passed: 0,
    failed: [],
    ops: 0,
    faults: 0,
    ackedCreates: 0,
    mutexHolds: 0,
    overlaps: 0,
    worst: { ms: 0, seed: 0 },
    byKind: {},
    load: { mean: 0, max: 0 },
  };
  for (const r of runs) {
    if (r.code === 0) t.passed++;
    else t.failed.push(r.seed);
    t.ops += r.ops;
    t.faults += r.faults;
    t.ackedCreates += r.ackedCreates;
    t.mutexHolds += r.mutexHolds;
    t.overlaps += r.overlaps;
    if (r.worstMs > t.worst.ms) t.worst = { ms: r.worstMs, seed: r.seed };
    for (const [kind, ms] of Object.entries(r.byKind)) {
      const k = (t.byKind[kind] ??= { runs: 0, ms: 0, seed: r.seed });
      k.runs++;
      if (ms > k.ms) Object.assign(k, { ms, seed: r.seed });
    }
    t.load.mean += r.load.mean / Math.max(1, runs.length);
    t.load.max = Math.max(t.load.max, r.load.max);
  }
  return t;
}

const s1 = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The campaign's closing table (markdown, so it can go straight into docs). */
export function formatTotals(t: CampaignTotals, members: number, secsPerRun: number): string[] {
  const kinds = Object.entries(t.byKind).sort(([, a], [, b]) => b.ms - a.ms);
  return [
    `campaign: ${t.runs} runs x ${secsPerRun} s on ${members} members: ${t.passed} passed${t.failed.length ? `, FAILED seeds ${t.failed.join(' ')}` : ''}; ` +
      `${t.ops} ops, ${t.faults} faults, ${t.ackedCreates} acknowledged creates, ${t.mutexHolds} mutex holds, ${t.overlaps} overlapping holders; ` +
      `worst unavailability ${s1(t.worst.ms)} (seed ${t.worst.seed}); load average (1 min) mean ${t.load.mean.toFixed(1)}, max ${t.load.max.toFixed(1)}`,
    '',
    '| fault kind | runs with it | worst unavailability | seed |',
    '|---|---|---|---|',
    ...kinds.map(([k, v]) => `| ${k} | ${v.runs} | ${s1(v.ms)} | ${v.seed} |`),
  ];
}

export interface CampaignArgs {
  runs: number;
  secs: number;
  members: number;
  firstSeed: number;
  /** Where the logs go; the caller makes a temp dir when it is not given. */
  out: string | undefined;
  extra: string[];
}

const USAGE = 'usage: nemesis:campaign --runs <n> --secs <n> --members 3|5 [--first-seed <int>] [--out DIR] [-- <nemesis args>]';
const OPTIONS = ['runs', 'secs', 'members', 'first-seed', 'out'];

/** Thrown for --help: the usage goes to stdout and the exit is 0. */
export class HelpAsked extends Error {}

/**
 * The campaign's own arguments (before `--`; the rest goes to each nemesis run). Every word is
 * `--option value`: an unknown option or a missing value is refused, never ignored (`--help` once
 * started a 20-minute default campaign).
 */
export function parseCampaignArgs(argv: string[]): CampaignArgs {
  const dash = argv.indexOf('--');
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  if (own.includes('--help') || own.includes('-h')) throw new HelpAsked(USAGE);
  for (let i = 0; i < own.length; i += 2) {
    const name = own[i]!.startsWith('--') ? own[i]!.slice(2) : undefined;
    if (name === undefined || !OPTIONS.includes(name)) throw new Error(`unknown argument '${own[i]}'\n${USAGE}`);
    if (own[i + 1] === undefined || own[i + 1]!.startsWith('--')) throw new Error(`--${name} needs a value\n${USAGE}`);
  }
  const get = (name: string) => {
    const i = own.indexOf(`--${name}`);
    return i >= 0 ? own[i + 1] : undefined;
  };
  const members = Number(get('members') ?? 3);
  const a = {
    runs: Number(get('runs') ?? 20),
    secs: Number(get('secs') ?? 60),
    members,
    firstSeed: Number(get('first-seed') ?? members * 1000 + 1),
    out: get('out'),
    extra: dash >= 0 ? argv.slice(dash + 1) : [],
  };
  if (![a.runs, a.secs, a.firstSeed].every((n) => Number.isInteger(n) && n > 0) || ![3, 5].includes(members)) throw new Error(USAGE);
  return a;
}
