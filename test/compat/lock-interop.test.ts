/**
 * Our Mutex uses Curator's znode naming (`_c_<uuid>-lock-<seq>`), so a TypeScript process and a
 * Java process using Curator's InterProcessMutex on the same path exclude each other. Checked by
 * recording every hold interval on one machine clock and asserting none overlap.
 */
import { spawn } from 'child_process';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createClient } from '../../src/client';
import { Mutex } from '../../src/recipes';
import { compatTargets, startServer, type TestServer } from '../harness/servers';

const JARS = ['curator-recipes', 'curator-framework', 'curator-client', 'zookeeper', 'slf4j-nop'].map((j) => `/usr/share/java/${j}.jar`);
let classDir = '';

beforeAll(async () => {
  classDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkcompat-lockloop-'));
  await new Promise<void>((resolve, reject) =>
    execFile('javac', ['-nowarn', '-d', classDir, '-cp', JARS.join(':'), path.join(__dirname, 'java', 'CuratorLockLoop.java')], { timeout: 120_000 }, (err, _o, stderr) =>
      err ? reject(new Error(stderr)) : resolve(),
    ),
  );
}, 150_000);

afterAll(() => {
  if (classDir) fs.rmSync(classDir, { recursive: true, force: true });
});

interface Interval {
  who: string;
  from: number;
  to: number;
}

describe.each(compatTargets())('our Mutex and Curator InterProcessMutex share a lock against %s', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(kind);
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('holds never overlap', async () => {
    const lockPath = '/interop/lock';
    const intervals: Interval[] = [];
    const java = spawn('java', ['-XX:TieredStopAtLevel=1', '-cp', [classDir, ...JARS].join(':'), 'CuratorLockLoop', server.connectString, lockPath, '6', '40'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    let acquiredAt = 0;
    let ready!: () => void;
    const javaReady = new Promise<void>((r) => (ready = r));
    java.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const ev = JSON.parse(line) as { event: string; t: number };
        if (ev.event === 'ready') ready();
        if (ev.event === 'acquired') acquiredAt = ev.t;
        if (ev.event === 'releasing') intervals.push({ who: 'curator', from: acquiredAt, to: ev.t });
      }
    });
    const javaDone = new Promise<number>((r) => java.once('exit', (code) => r(code ?? 1)));
    await javaReady;
    const zk = await createClient(server.connectString, { sessionTimeoutMs: 10_000 });
    try {
      const mutex = new Mutex(zk, lockPath);
      for (let i = 0; i < 6; i++) {
        const h = await mutex.acquire();
        const from = Date.now();
        await new Promise((r) => setTimeout(r, 40));
        const to = Date.now();
        await h.release();
        intervals.push({ who: 'zabkeeper-ts', from, to });
      }
    } finally {
      zk.close();
    }
    expect(await javaDone).toBe(0);
    expect(intervals.filter((i) => i.who === 'curator').length).toBe(6);
    intervals.sort((a, b) => a.from - b.from);
    for (let i = 1; i < intervals.length; i++) {
      // Java prints "acquired" after acquire() returned and "releasing" before release(): its
      // recorded interval lies inside its real hold, as ours does.
      if (intervals[i].from < intervals[i - 1].to) throw new Error(`overlap: ${JSON.stringify(intervals[i - 1])} and ${JSON.stringify(intervals[i])}`);
    }
  }, 120_000);
});
