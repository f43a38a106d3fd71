/**
 * End to end: the Kafka-style controller demo against an in-process zabkeeper (tickTime 200 ms,
 * 2 s sessions), three real broker processes, kill -9 and SIGSTOP of the controller.
 */
import { startInProc, type InProcServer } from '../harness/inproc';
import { builtDemo, explain, runDemo, type DemoRun } from './helpers';

interface Reign {
  brokerid: number;
  epoch: number;
}
interface Scenario {
  victim: number;
  newController: number | null;
  newEpoch: number | null;
  takeoverMs: number | null;
  fencedWrites?: number;
  steppedDown?: boolean;
  epochBefore?: number;
  rejoined?: boolean;
}

let server: InProcServer;
let run: DemoRun;

beforeAll(async () => {
  builtDemo('broker'); // fail, not skip, without a build
  server = await startInProc({ tickTimeMs: 200 });
  run = await runDemo('controller', ['--connect', `127.0.0.1:${server.port}`, '--brokers', '3', '--session-timeout', '2000'], 55_000);
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe('controller demo', () => {
  test('finishes and reports ok', () => {
    expect({ ok: run.summary.ok, problems: run.summary.problems, code: run.code }).toEqual({ ok: true, problems: [], code: 0 });
  });

  test('one controller per epoch, epochs strictly increasing, no write outside its epoch', () => {
    const reigns = run.summary.controllers as Reign[];
    const epochs = reigns.map((r) => r.epoch);
    expect(epochs.length).toBeGreaterThanOrEqual(3); // initial + after kill + after pause
    for (let i = 1; i < epochs.length; i++) expect(epochs[i]).toBeGreaterThan(epochs[i - 1]!);
    expect(run.summary.writesOutsideEpoch).toBe(0);
    expect(run.summary.committedControllerWrites as number).toBeGreaterThan(0);
    // ZooKeeper's own view: /controller alternates between one broker and nobody.
    const history = run.summary.zkControllerHistory as { brokerid: number | null; epoch: number }[];
    const owners = history.filter((h) => h.brokerid !== null).map((h) => h.epoch);
    expect(new Set(owners).size).toBe(owners.length);
  });

  test('kill -9 of the controller: another broker takes over with a higher epoch', () => {
    const kill = (run.summary.scenarios as Record<string, Scenario>).kill!;
    expect(kill.newController).not.toBeNull();
    expect(kill.newController).not.toBe(kill.victim);
    expect(kill.takeoverMs!).toBeLessThan(20_000);
    expect(kill.rejoined).toBe(true);
  });

  test('SIGSTOP past the session timeout: new controller, the old one is fenced and steps down', () => {
    const pause = (run.summary.scenarios as Record<string, Scenario>).pause!;
    expect(pause.newController).not.toBeNull();
    expect(pause.newController).not.toBe(pause.victim);
    expect(pause.newEpoch!).toBeGreaterThan(pause.epochBefore!);
    expect(pause.fencedWrites!).toBeGreaterThan(0);
    expect(pause.steppedDown).toBe(true);
    expect(pause.rejoined).toBe(true);
    expect(run.summary.fencedWritesRejected as number).toBeGreaterThan(0);
    const down = (run.summary.steppedDown as { brokerid: number; epoch: number; reason: string }[]).find((s) => s.brokerid === pause.victim);
    expect(down?.epoch).toBe(pause.epochBefore);
    expect(down?.reason).toMatch(/fenced|expired|controller/);
  });

  test('prints a readable timeline', () => {
    expect(run.stdout).toMatch(/t\+\s+\d+ ms\s+broker \d\s+ELECTED controller, epoch 1/);
    expect(run.stdout).toMatch(/FENCED: write of epoch \d+ rejected \(badVersion on \/controller_epoch\)/);
    if (run.summary.ok !== true) throw new Error(explain(run));
  });
});
