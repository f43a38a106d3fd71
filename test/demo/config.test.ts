/** End to end: the config hot-reload demo against an in-process zabkeeper, real worker processes. */
import { startInProc, type InProcServer } from '../harness/inproc';
import { explain, runDemo, type DemoRun } from './helpers';

let server: InProcServer;
let run: DemoRun;

beforeAll(async () => {
  server = await startInProc({ tickTimeMs: 200 });
  run = await runDemo('config', ['--connect', `127.0.0.1:${server.port}`, '--workers', '3', '--session-timeout', '2000'], 55_000);
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe('config demo', () => {
  test('finishes and reports ok', () => {
    if (run.summary.ok !== true) throw new Error(explain(run));
    expect(run.code).toBe(0);
  });

  test('every step passed and every worker, the late one included, ends on the last version', () => {
    expect(Object.values(run.summary.steps as Record<string, boolean>).every(Boolean)).toBe(true);
    expect(run.summary.converged).toBe(true);
    const last = run.summary.lastVersion as number;
    const finals = run.summary.finalVersions as Record<string, number>;
    expect(Object.keys(finals)).toHaveLength(4);
    for (const v of Object.values(finals)) expect(v).toBe(last);
  });

  test('versions are applied in order, never going back, and the invalid value is rejected by all', () => {
    for (const versions of Object.values(run.summary.applied as Record<string, number[]>)) {
      for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThan(versions[i - 1]!);
    }
    const invalid = run.summary.invalidRejectedBy as Record<string, number>;
    expect(Object.keys(invalid).sort()).toEqual(['1', '2', '3']);
  });

  test('step-by-step changes reach every running worker within the bound', () => {
    const deliveries = run.summary.deliveries as { version: number; watchers: number; deliveredTo: number; maxLatencyMs: number | null }[];
    // Versions 2..4 were written one at a time: every worker applies each of them.
    for (const d of deliveries.filter((x) => x.version >= 2 && x.version <= 4)) expect(d.deliveredTo).toBe(d.watchers);
    expect(run.summary.maxLatencyMs as number).toBeLessThanOrEqual(run.summary.boundMs as number);
  });
});
