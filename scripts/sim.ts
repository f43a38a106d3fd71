/**
 * Deterministic simulation of the quorum core (test/sim/lib/sim.ts).
 *   npm run sim -- --seed N                 replay one seed and print its trace
 *   npm run sim -- --seeds K [--first-seed S] [--bug NAME]   run K seeds; exit 1 on the first failure
 * Bugs (test-only): ackBeforePersist, epochBeforeHistory, staleLeader.
 */
import { runSeed, type SimResult } from '../test/sim/lib/sim';
import type { PlantedBugs } from '../src/quorum/core/types';

interface Args {
  seed?: number;
  seeds: number;
  firstSeed: number;
  bug?: keyof PlantedBugs;
  quiet: boolean;
}

const BUGS: ReadonlyArray<keyof PlantedBugs> = ['ackBeforePersist', 'epochBeforeHistory', 'staleLeader'];

function parseArgs(argv: string[]): Args {
  const args: Args = { seeds: 100, firstSeed: 1, quiet: false };
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
      const b = val() as keyof PlantedBugs;
      if (!BUGS.includes(b)) throw new Error(`unknown bug ${b}; known: ${BUGS.join(', ')}`);
      args.bug = b;
    } else if (a === '--quiet') args.quiet = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

function replayCommand(seed: number, bug?: string): string {
  return `npm run sim -- --seed ${seed}${bug ? ` --bug ${bug}` : ''}`;
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  const bugs: PlantedBugs | undefined = args.bug ? { [args.bug]: true } : undefined;
  if (args.seed !== undefined) {
    const r = runSeed({ seed: args.seed, bugs, trace: true });
    for (const line of r.trace) console.log(line);
    console.log(r.ok ? `seed ${r.seed}: ok` : `seed ${r.seed}: FAILED: ${r.failure}`);
    return r.ok ? 0 : 1;
  }
  const start = Date.now();
  let failed: SimResult | undefined;
  let n = 0;
  for (let s = args.firstSeed; s < args.firstSeed + args.seeds; s++) {
    const r = runSeed({ seed: s, bugs });
    n++;
    if (!r.ok) {
      failed = r;
      break;
    }
  }
  const secs = ((Date.now() - start) / 1000).toFixed(1);
  if (failed) {
    console.log(`seed ${failed.seed} FAILED after ${n} seeds (${secs}s): ${failed.failure}`);
    console.log(`replay: ${replayCommand(failed.seed, args.bug)}`);
    return 1;
  }
  console.log(`${n} seeds passed (${args.firstSeed}..${args.firstSeed + n - 1}) in ${secs}s`);
  return 0;
}

process.exitCode = main();
