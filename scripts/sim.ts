/**
 * The whole-server simulator (test/sim/lib/sim.ts): N production ZkServers with injected I/O.
 *   npm run sim -- --seed N                          replay one seed and print its trace
 *   npm run sim -- --seeds K [--first-seed S]         run a range; exit 1 on the first failure
 *   [--bug NAME]                                     plant a bug (core: ackBeforePersist,
 *       epochBeforeHistory, staleLeader; shell: snapSeparateTransactions, ackBeforeFsync,
 *       proposalAppliedBeforeCommit, followerExpiresSessions, watchAfterReply,
 *       followerAnswersBeforeRevalidation, leaderAppliesRecoveredLate)
 *   [--keep-going]                                   run the whole range, report every failure
 *   [--fsync-off-loop on|off]                        the txn-log fsync on the thread pool or inline
 *                                                    (SimOptions.fsyncOffLoop; default: the server's)
 * Prints seeds/s and the coverage statistics of the range.
 */
import { runSeed, type SimOptions, type SimResult, type SimStats } from '../test/sim/lib/sim';
import type { PlantedBugs } from '../src/quorum/core/types';
import type { ShellBugs } from '../src/quorum/execute';

const CORE_BUGS: ReadonlyArray<keyof PlantedBugs> = ['ackBeforePersist', 'epochBeforeHistory', 'staleLeader'];
const SHELL_BUGS: ReadonlyArray<keyof ShellBugs> = ['snapSeparateTransactions', 'ackBeforeFsync', 'proposalAppliedBeforeCommit', 'followerExpiresSessions', 'watchAfterReply', 'followerAnswersBeforeRevalidation', 'leaderAppliesRecoveredLate'];

interface Args {
  seed?: number;
  seeds: number;
  firstSeed: number;
  bug?: string;
  keepGoing: boolean;
  fsyncOffLoop?: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { seeds: 100, firstSeed: 1, keepGoing: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--seed') args.seed = Number(val());
    else if (a === '--seeds') args.seeds = Number(val());
    else if (a === '--first-seed') args.firstSeed = Number(val());
    else if (a === '--bug') {
      const b = val();
      if (!(CORE_BUGS as readonly string[]).includes(b) && !(SHELL_BUGS as readonly string[]).includes(b)) {
        throw new Error(`unknown bug ${b}; known: ${[...CORE_BUGS, ...SHELL_BUGS].join(', ')}`);
      }
      args.bug = b;
    } else if (a === '--keep-going') args.keepGoing = true;
    else if (a === '--fsync-off-loop') {
      const v = val();
      if (v !== 'on' && v !== 'off') throw new Error(`--fsync-off-loop takes on or off, not ${v}`);
      args.fsyncOffLoop = v === 'on';
    }
    else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

export function bugOptions(bug: string | undefined): Pick<SimOptions, 'coreBugs' | 'shellBugs'> {
  if (!bug) return {};
  return (CORE_BUGS as readonly string[]).includes(bug) ? { coreBugs: { [bug]: true } } : { shellBugs: { [bug]: true } };
}

/** Totals over a range of seeds: what happened, so coverage is visible. */
export function summarize(all: SimStats[]): string {
  const sum = (f: (s: SimStats) => number) => all.reduce((n, s) => n + f(s), 0);
  const faults = new Map<string, number>();
  for (const s of all) for (const [k, v] of Object.entries(s.faults)) faults.set(k, (faults.get(k) ?? 0) + (v ?? 0));
  return [
    `syncs: DIFF ${sum((s) => s.syncs.diff)}, TRUNC ${sum((s) => s.syncs.trunc)}, SNAP ${sum((s) => s.syncs.snap)}`,
    `elections ${sum((s) => s.elections)}, crashes ${sum((s) => s.crashes)} (mid-batch ${sum((s) => s.crashesMidBatch)}), fail-stops ${sum((s) => s.failStops)}`,
    `session expiries ${sum((s) => s.sessionExpiries)}, watch events ${sum((s) => s.watchEvents)}, ignored peer messages ${sum((s) => s.ignored)}`,
    `committed txns ${sum((s) => s.committed)}, acknowledged writes ${sum((s) => s.acked)}, client requests ${sum((s) => s.clientRequests)}, events ${sum((s) => s.events)}`,
    `faults: ${[...faults].sort().map(([k, v]) => `${k} ${v}`).join(', ')}`,
  ].join('\n');
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const simOpts = { ...bugOptions(args.bug), ...(args.fsyncOffLoop === undefined ? {} : { fsyncOffLoop: args.fsyncOffLoop }) };
  const flags = `${args.bug ? ` --bug ${args.bug}` : ''}${args.fsyncOffLoop === undefined ? '' : ` --fsync-off-loop ${args.fsyncOffLoop ? 'on' : 'off'}`}`;
  const replay = (s: number) => `npm run sim -- --seed ${s}${flags}`;
  if (args.seed !== undefined) {
    const r = await runSeed({ seed: args.seed, trace: true, ...simOpts });
    for (const line of r.trace) console.log(line);
    console.log(r.ok ? `seed ${r.seed}: ok` : `seed ${r.seed}: FAILED: ${r.failure}`);
    console.log(summarize([r.stats]));
    return r.ok ? 0 : 1;
  }
  const started = Date.now();
  const stats: SimStats[] = [];
  const failed: SimResult[] = [];
  for (let s = args.firstSeed; s < args.firstSeed + args.seeds; s++) {
    const r = await runSeed({ seed: s, ...simOpts });
    stats.push(r.stats);
    if (!r.ok) {
      failed.push(r);
      console.log(`seed ${s} FAILED: ${r.failure}\nreplay: ${replay(s)}`);
      if (!args.keepGoing) break;
    }
  }
  const secs = (Date.now() - started) / 1000;
  const last = args.firstSeed + stats.length - 1;
  console.log(`${stats.length - failed.length}/${stats.length} seeds passed (${args.firstSeed}..${last}) in ${secs.toFixed(1)} s, ${(stats.length / secs).toFixed(2)} seeds/s`);
  console.log(summarize(stats));
  return failed.length === 0 ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 2;
    },
  );
}
