/**
 * Test-side entry to the server launcher. The process code lives in scripts/lib/zk-process.ts so that
 * scripts/capture-fixtures.ts can use it without depending on test code.
 */
import { TargetKind } from '../../scripts/lib/zk-process';

export { startServer, apacheClasspath, zabkeeperCli, repoRoot, connectRequestFrame } from '../../scripts/lib/zk-process';
export type { TargetKind, TestServer, StartOptions } from '../../scripts/lib/zk-process';

const ALL: readonly TargetKind[] = ['zabkeeper', 'apache'];

/** Targets to run, from ZK_COMPAT_TARGETS (comma list); default both. Unknown names are an error. */
export function compatTargets(): TargetKind[] {
  return parseTargets(process.env.ZK_COMPAT_TARGETS);
}

export function parseTargets(spec: string | undefined): TargetKind[] {
  const names = (spec ?? 'zabkeeper,apache').split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const n of names) {
    if (!ALL.includes(n as TargetKind)) throw new Error(`ZK_COMPAT_TARGETS: unknown target ${n}`);
  }
  return names as TargetKind[];
}
