/**
 * Apache Curator 5.4 (Debian) recipes. CuratorSuite.java is compiled once per jest run into a temp
 * dir; one JVM per target runs every scenario (through a recording proxy, so we can also check which
 * opcodes Curator used) and prints JSON lines.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compatTargets, startServer, TestServer } from '../harness/servers';
import { Proxy, splitFrames, startProxy } from '../harness/proxy';
import { Scenario, scenario } from './pyrun';

const JARS = ['curator-recipes', 'curator-framework', 'curator-client', 'zookeeper', 'slf4j-nop'].map(
  (j) => `/usr/share/java/${j}.jar`,
);

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      err && !stdout ? reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

/** Opcodes in the client→server stream of every proxied connection (first frame = ConnectRequest). */
function clientOpcodes(proxy: Proxy): Set<number> {
  const byConn = new Map<number, Buffer[]>();
  for (const f of proxy.frames) if (f.direction === 'client') byConn.set(f.conn, [...(byConn.get(f.conn) ?? []), f.data]);
  const ops = new Set<number>();
  for (const chunks of byConn.values()) {
    const frames = splitFrames(Buffer.concat(chunks));
    for (const fr of frames.slice(1)) ops.add(fr.readInt32BE(8));
  }
  return ops;
}

let classDir = '';

beforeAll(async () => {
  classDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkcompat-curator-'));
  await run('javac', ['-nowarn', '-d', classDir, '-cp', JARS.join(':'), path.join(__dirname, 'java', 'CuratorSuite.java')], 120_000);
}, 150_000);

afterAll(() => {
  if (classDir) fs.rmSync(classDir, { recursive: true, force: true });
});

describe.each(compatTargets())('Curator against %s', (kind) => {
  let server: TestServer;
  let proxy: Proxy;
  const results = new Map<string, Scenario>();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from Java
  const get = (name: string) => scenario(results, name) as Record<string, any>;

  beforeAll(async () => {
    server = await startServer(kind);
    proxy = await startProxy(server.port);
    const out = await run('java', ['-XX:TieredStopAtLevel=1', '-cp', [classDir, ...JARS].join(':'), 'CuratorSuite', `127.0.0.1:${proxy.port}`], 120_000);
    for (const line of out.split('\n')) {
      if (!line.startsWith('{')) continue;
      const s = JSON.parse(line) as Scenario;
      results.set(s.scenario, s);
    }
  }, 150_000);
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  test('InterProcessMutex: 4 clients x 5 rounds, exclusive and reentrant', () => {
    const r = get('mutex');
    expect(r.errors).toEqual([]);
    expect(r.max_holders).toBe(1);
    expect(r.count).toBe(r.expected);
    expect(r.leftover).toEqual([]);
  });

  test('LeaderLatch: exactly one leader, leadership moves when the leader closes', () => {
    const r = get('leader_latch');
    expect(r.leader_counts).toEqual([1, 1, 1]);
    expect([...r.leaders].sort()).toEqual(['p0', 'p1', 'p2']);
  });

  test('CuratorCache (persistent recursive watch): create/change/delete events', () => {
    const r = get('cache');
    expect(r.events).toEqual([
      'create /cur/cache root',
      'create /cur/cache/a 1',
      'change /cur/cache/a 1->2',
      'create /cur/cache/a/b deep',
      'change /cur/cache/a/b deep->deeper',
      'delete /cur/cache/a/b',
      'delete /cur/cache/a',
    ]);
    expect(r.cached_after).toEqual(['/cur/cache']);
  });

  test('transactionOp: per-op results, failing transaction rolls back, container parents', () => {
    const r = get('transactions');
    expect(r.ok).toEqual([
      { type: 'CREATE', for: '/cur/txroot/tx/a', result: '/cur/txroot/tx/a', version: null, error: 0 },
      { type: 'SET_DATA', for: '/cur/txroot/tx', result: null, version: 1, error: 0 },
      { type: 'CHECK', for: '/cur/txroot/tx', result: null, version: null, error: 0 },
      { type: 'CREATE', for: '/cur/txroot/tx/s-', result: '/cur/txroot/tx/s-0000000001', version: null, error: 0 },
      { type: 'DELETE', for: '/cur/txroot/tx/a', result: null, version: null, error: 0 },
    ]);
    expect(r.failure).toBe('BADVERSION');
    expect(r.never_exists).toBe(false);
    expect(r.data).toBe('u');
    // Container znodes report ephemeralOwner 0 to clients.
    expect(r.container_parent_owner).toBe(0);
  });

  test('Curator used addWatch (106), createContainer (19), multi (14), create2 (15)', () => {
    const ops = clientOpcodes(proxy);
    for (const op of [106, 19, 14, 15]) expect(ops).toContain(op);
  });
});
