/**
 * Test-side entry to the server launcher. The process code lives in scripts/lib/zk-process.ts so that
 * scripts/capture-fixtures.ts can use it without depending on test code.
 */
import { startServer as startOne, type StartOptions, type TargetKind, type TestServer } from '../../scripts/lib/zk-process';
import { startEnsemble } from '../../scripts/lib/ensemble-process';

export { apacheClasspath, zabkeeperCli, repoRoot, connectRequestFrame } from '../../scripts/lib/zk-process';
export type { TargetKind, TestServer, StartOptions } from '../../scripts/lib/zk-process';

const ALL: readonly TargetKind[] = ['zabkeeper', 'apache', 'zabkeeper-ensemble', 'apache-ensemble'];

export const isEnsemble = (kind: TargetKind): boolean => kind.endsWith('-ensemble');
/** Apache's behaviour (3.8), as opposed to ours, for per-target expectations. */
export const isApache = (kind: TargetKind): boolean => kind.startsWith('apache');

/**
 * Starts the target. For `zabkeeper-ensemble` the suites get member 1 of a 3-server ensemble
 * (a follower or the leader: both must behave the same) and a connect string naming all three.
 */
export async function startServer(kind: TargetKind, opts: StartOptions = {}): Promise<TestServer> {
  if (!isEnsemble(kind)) return startOne(kind, opts);
  const ens = await startEnsemble(isApache(kind) ? 'apache' : 'zabkeeper', 3, { tickTime: opts.tickTime ?? 2000, extraCfg: opts.extraCfg });
  await ens.waitServing();
  const m = ens.members[0];
  const restartAll = async () => {
    await Promise.all(ens.members.map((x) => x.start()));
    await ens.waitServing();
  };
  return {
    kind,
    host: '127.0.0.1',
    port: m.clientPort,
    // Member 1 only: the suites compare single-client views, and a second client on another member
    // may legitimately lag (ZooKeeper promises sequential consistency, not cross-client
    // linearizable reads without sync). Multi-member connect strings are tested in test/ensemble.
    connectString: `127.0.0.1:${m.clientPort}`,
    dataDir: m.dataDir,
    cfgPath: m.cfgPath,
    logPath: m.cfgPath.replace(/zoo(\d+)\.cfg$/, 's$1.log'),
    stop: () => ens.stop(),
    kill9: async () => {
      await Promise.all(ens.members.map((x) => x.kill9()));
    },
    restart: async () => {
      await Promise.all(ens.members.map((x) => x.stop()));
      await restartAll();
    },
    fourLetter: (cmd: string) => fourLetterOn(m.clientPort, cmd),
  };
}

async function fourLetterOn(port: number, cmd: string): Promise<string> {
  const { fourLetter } = await import('../../scripts/lib/zk-process');
  return fourLetter(port, cmd);
}

/** Targets to run, from ZK_COMPAT_TARGETS (comma list); default all three. Unknown names are an error. */
export function compatTargets(): TargetKind[] {
  return parseTargets(process.env.ZK_COMPAT_TARGETS);
}

export function parseTargets(spec: string | undefined): TargetKind[] {
  const names = (spec ?? 'zabkeeper,apache,zabkeeper-ensemble').split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const n of names) {
    if (!ALL.includes(n as TargetKind)) throw new Error(`ZK_COMPAT_TARGETS: unknown target ${n}`);
  }
  return names as TargetKind[];
}
