/**
 * Summarizes V8 .cpuprofile files (node --cpu-prof): self time by function and by file, heaviest
 * first, as a share of the samples that ran JavaScript or native code (idle excluded). Used to find
 * where zabkeeper's CPU per write goes (docs/scale.md, "CPU per operation"). Not a test.
 *
 *   node dist/scripts/cpuprofile-top.js [--top 30] [--under FUNCTION] FILE.cpuprofile...
 *
 * --under keeps only the samples taken inside a call of FUNCTION (e.g. loadSnapshot in a benchmark
 * that also builds and writes the tree). V8 charges garbage collection to its own root-level frame,
 * so GC drops out of an --under summary.
 */
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Frames that are not work: the event loop waiting, and the profiler itself. */
const NOT_WORK = new Set(['(idle)', '(program)', '(root)']);

/** Self time (µs) per node id: each sample's time delta is charged to the node it landed on. */
function selfTimes(p: Profile): Map<number, number> {
  const out = new Map<number, number>();
  p.samples.forEach((id, i) => out.set(id, (out.get(id) ?? 0) + (p.timeDeltas[i + 1] ?? 0)));
  return out;
}

/** Ids of the nodes inside a call of `fn` (the frames named `fn` and everything they called). */
function nodesUnder(p: Profile, fn: string): Set<number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const out = new Set<number>();
  const stack = p.nodes.filter((n) => n.callFrame.functionName === fn).map((n) => n.id);
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (out.has(id)) continue;
    out.add(id);
    stack.push(...(byId.get(id)!.children ?? []));
  }
  return out;
}

const shortUrl = (url: string) => url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/');

function summarize(file: string, top: number, under: string | undefined): string {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const keep = under === undefined ? undefined : nodesUnder(p, under);
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfTimes(p)) {
    const f = byId.get(id)!.callFrame;
    if (NOT_WORK.has(f.functionName) || (keep && !keep.has(id))) continue;
    total += us;
    const where = shortUrl(f.url) || '(native)';
    const key = `${f.functionName || '(anonymous)'} ${where}:${f.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    byFile.set(where, (byFile.get(where) ?? 0) + us);
  }
  const rows = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
  const scope = under === undefined ? '' : ` inside ${under}`;
  return [`== ${path.basename(file)}: ${(total / 1000).toFixed(0)} ms of work sampled${scope}`, '-- self time by function', ...rows(byFn), '-- self time by file', ...rows(byFile)].join('\n');
}

function main(): void {
  const args = process.argv.slice(2);
  const at = args.indexOf('--top');
  const top = at >= 0 ? Number(args.splice(at, 2)[1]) : 30;
  const u = args.indexOf('--under');
  const under = u >= 0 ? args.splice(u, 2)[1] : undefined;
  for (const f of args) process.stdout.write(summarize(f, top, under) + '\n\n');
}

main();
