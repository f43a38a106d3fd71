/** End to end: the service discovery demo against an in-process zabkeeper, real instance processes. */
import { startInProc, type InProcServer } from '../harness/inproc';
import { explain, runDemo, type DemoRun } from './helpers';

interface Instance {
  id: string;
  how: 'SIGTERM' | 'SIGKILL' | null;
  seenAtMs: number | null;
  goneSeenAtMs: number | null;
  leaveSeenAfterMs: number | null;
}

let server: InProcServer;
let run: DemoRun;

beforeAll(async () => {
  server = await startInProc({ tickTimeMs: 200 });
  run = await runDemo('discovery', ['--connect', `127.0.0.1:${server.port}`, '--session-timeout', '2000'], 55_000);
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe('discovery demo', () => {
  test('finishes and reports ok', () => {
    if (run.summary.ok !== true) throw new Error(explain(run));
    expect(run.code).toBe(0);
  });

  test('the watcher, ZooKeeper and the running instances agree at the end', () => {
    expect(run.summary.finalMembership).toEqual(['api-1', 'api-4', 'api-5']);
    expect(run.summary.zkMembership).toEqual(run.summary.finalMembership);
    expect(run.summary.expectedMembership).toEqual(run.summary.finalMembership);
  });

  test('every instance was seen joining; stopped ones were seen leaving', () => {
    const instances = run.summary.instances as Instance[];
    expect(instances.map((i) => i.id)).toEqual(['api-1', 'api-2', 'api-3', 'api-4', 'api-5']);
    for (const i of instances) expect(i.seenAtMs).not.toBeNull();
    const clean = instances.find((i) => i.how === 'SIGTERM')!;
    const crashed = instances.find((i) => i.how === 'SIGKILL')!;
    expect(clean.goneSeenAtMs).not.toBeNull();
    expect(crashed.goneSeenAtMs).not.toBeNull();
    // A crashed instance lingers until its session expires; a clean one leaves at once.
    expect(crashed.leaveSeenAfterMs!).toBeGreaterThan(clean.leaveSeenAfterMs!);
  });

  test('the watcher printed every membership change', () => {
    const views = (run.summary.views as { members: string[] }[]).map((v) => v.members.length);
    expect(views).toEqual([0, 1, 2, 3, 4, 3, 2, 3]);
    expect(run.stdout).toMatch(/watcher\s+live api instances \(3\): api-1@127\.0\.0\.1:8080/);
  });
});
