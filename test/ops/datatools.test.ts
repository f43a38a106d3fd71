import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateFlags, OpCode, Perms, Xid } from '../../protocol/jute/constants';
import { writeAuthPacket } from '../../protocol/jute/records';
import { requests as rq } from '../../src/client/requests';
import { defaultOperationsConfig } from '../../src/config/operations';
import { treeDigest } from '../../src/tree';
import { loadSnapshotFrom } from '../../src/tools/datadir';
import { startInProc, type InProcServer } from '../harness/inproc';
import { startServer, zabkeeperCli, type TestServer } from '../harness/servers';
import { until } from '../harness/wait';
import type { ExportFile } from '../../src/tools/export';

/**
 * The data tools round-trip a data dir of ZK_DATATOOLS_NODES znodes (default 5,000; the 100k run is
 * `npm run test:datatools:large`): a consistent online backup restores to a data dir a server starts
 * from with the same tree; snapshot dump/stats/compare and log dump read a stopped server's data dir;
 * export/import move a subtree to Apache ZooKeeper 3.8 and back unchanged.
 */
const NODES = Number(process.env.ZK_DATATOOLS_NODES ?? 5_000);
const DIGEST_ACL = [{ perms: Perms.all, id: { scheme: 'digest', id: 'alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=' } }, { perms: Perms.read, id: { scheme: 'world', id: 'anyone' } }];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--max-old-space-size=4096', zabkeeperCli(), ...args], { maxBuffer: 1 << 30, timeout: 300_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const adminOps = () => {
  const operations = defaultOperationsConfig();
  operations.admin = { ...operations.admin, port: 0, rateLimiterIntervalMs: 0 };
  return operations;
};

/**
 * N znodes under /app/gNN/nNNNNN (data of varied sizes), a digest-ACL'd node, a sequential, and an
 * ephemeral that goes with its session (closed here, so no expiry can change the tree later).
 */
async function populate(s: InProcServer): Promise<void> {
  const c = await s.connect({ sessionTimeoutMs: 30_000 });
  try {
    await rq.create(c, '/app', Buffer.from('root'));
    const groups = 100;
    for (let g = 0; g < groups; g++) await rq.create(c, `/app/g${g}`, null);
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < NODES; i++) {
      pending.push(rq.create(c, `/app/g${i % groups}/n${i}`, Buffer.from('x'.repeat(i % 50))));
      if (pending.length >= 500) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    await rq.create(c, '/app/secret', Buffer.from('s3cr3t'), 0, DIGEST_ACL);
    await rq.create(c, '/app/seq-', Buffer.from('q'), CreateFlags.persistentSequential);
    await rq.create(c, '/app/eph', Buffer.from('e'), CreateFlags.ephemeral);
    await c.request(OpCode.closeSession, () => undefined);
  } finally {
    c.close();
  }
}

describe(`data tools on ${NODES} znodes`, () => {
  let dir: string;
  let source: InProcServer;
  let sourceDir: string;
  /** The server started on the restored data dir (test 1), exported from in test 3. */
  let restoredServer: InProcServer | undefined;
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-tools-'));
    sourceDir = path.join(dir, 'source');
    source = await startInProc({ dataDir: sourceDir, operations: adminOps() });
    await populate(source);
  }, 300_000);

  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
    await source?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('backup of the running server; the data dir is refused while it runs; restore makes an identical, startable data dir', async () => {
    const admin = source.server.operationPorts.admin;
    const denied = await cli(['backup', path.join(dir, 'b0'), '--server', `127.0.0.1:${admin}`, '--auth', 'x509']);
    expect([denied.code, denied.stderr]).toEqual([2, expect.stringMatching(/answered 401: Not authenticated/)]);
    const busy = await cli(['snapshot', 'stats', sourceDir]);
    expect([busy.code, busy.stderr]).toEqual([2, expect.stringMatching(/stop the server first/)]);

    const b = await cli(['backup', path.join(dir, 'backup'), '--server', `127.0.0.1:${admin}`]);
    expect(b.code).toBe(0);
    const manifest = JSON.parse(b.stdout);
    expect(manifest.zxid).toBe(`0x${source.server.lastZxid().toString(16)}`);
    expect(manifest.nodeCount).toBe(source.server.db.tree.nodeCount);
    const liveDigest = treeDigest(source.server.db);

    await source.server.close();
    // The stopped server's data dir (snapshot + log) holds exactly what the backup holds.
    const cmp = await cli(['snapshot', 'compare', sourceDir, path.join(dir, 'backup', manifest.file), '--with-log', '--json']);
    expect([cmp.code, JSON.parse(cmp.stdout).identical]).toEqual([0, true]);

    const restored = path.join(dir, 'restored');
    const r = await cli(['restore', path.join(dir, 'backup'), '--data-dir', restored]);
    expect([r.code, JSON.parse(r.stdout)]).toEqual([0, { restored: manifest.zxid, nodeCount: manifest.nodeCount }]);
    expect((await cli(['restore', path.join(dir, 'backup'), '--data-dir', restored])).stderr).toMatch(/already holds a zabkeeper store/);
    expect(treeDigest(loadSnapshotFrom(restored, { replay: true }).db)).toBe(liveDigest);

    const s2 = await startInProc({ dataDir: restored });
    restoredServer = s2;
    cleanup.push(() => s2.stop());
    const c = await s2.connect();
    // alice may see her own digest (others get it redacted).
    await c.request(OpCode.auth, (w) => writeAuthPacket(w, { type: 0, scheme: 'digest', auth: Buffer.from('alice:secret') }), undefined, Xid.auth);
    const count = await c.request<number>(OpCode.getAllChildrenNumber, (w) => w.writeString('/app'), (rd) => rd.readInt());
    expect(count.body).toBe(NODES + 100 + 2);
    expect((await rq.getACL(c, '/app/secret')).body!.acl).toEqual(DIGEST_ACL);
    c.close();
  }, 300_000);

  test('snapshot dump, stats and log dump read the stopped data dir', async () => {
    const stats = JSON.parse((await cli(['snapshot', 'stats', sourceDir, '--with-log', '--json'])).stdout);
    // 4 system znodes, /app, 100 groups, NODES leaves, secret, seq (the ephemeral went with its session).
    expect(stats.nodeCount).toBe(4 + 1 + 100 + NODES + 2);
    expect(stats.namespaces.app.nodes).toBe(1 + 100 + NODES + 2);
    expect(stats.nodesAtDepth).toEqual([1, 2, 100 + 2 + 2, NODES]);
    expect(stats.ephemerals).toBe(0);

    const dump = JSON.parse((await cli(['snapshot', 'dump', sourceDir, '--with-log', '--json', '--data'])).stdout);
    expect(dump.nodes).toHaveLength(stats.nodeCount);
    expect(dump.nodes.find((n: { path: string }) => n.path === '/app/secret').data).toBe(Buffer.from('s3cr3t').toString('base64'));
    const text = (await cli(['snapshot', 'dump', sourceDir, '--with-log'])).stdout.split('\n');
    expect(text.slice(0, 3)).toEqual([`ZNode Details (count=${stats.nodeCount}):`, '----', '/']);
    expect(text).toContain(`Last zxid: ${stats.lastZxid}`);

    const txns = (await cli(['log', 'dump', sourceDir, '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    const creates = txns.filter((t) => t.type === 'create');
    expect(creates.length).toBe(1 + 100 + NODES + 3);
    expect(txns.filter((t) => t.type === 'closeSession')).toHaveLength(1);
    expect(txns[txns.length - 1].zxid).toBe(stats.lastZxid);
    const tail = (await cli(['log', 'dump', sourceDir, '--from-zxid', txns[txns.length - 3].zxid])).stdout.split('\n');
    expect(tail.filter((l) => / zxid 0x/.test(l))).toHaveLength(2);
    expect(tail).toContain('EOF reached after 2 txns.');
  }, 300_000);

  test('export a subtree and import it into Apache ZooKeeper 3.8 and back: nothing changes', async () => {
    const s2 = restoredServer!;
    // An ephemeral of a live session is left out of the export.
    const live = await s2.connect();
    await rq.create(live, '/app/eph-live', null, CreateFlags.ephemeral);
    const exported = path.join(dir, 'app.json');
    const e = await cli(['export', '/app', '--server', `127.0.0.1:${s2.port}`, '--out', exported, '--auth', 'digest:alice:secret']);
    live.close();
    expect([e.code, e.stderr]).toEqual([0, `exported ${NODES + 100 + 3} znodes from /app, left out 1 ephemeral\n`]);
    expect(JSON.parse(fs.readFileSync(exported, 'utf8')).nodes.some((n: { path: string }) => n.path === '/app/eph-live')).toBe(false);
    const first = JSON.parse(fs.readFileSync(exported, 'utf8')) as ExportFile;
    const targets: TestServer[] = [];
    const kinds = process.env.ZK_COMPAT_TARGETS === 'zabkeeper' ? (['zabkeeper'] as const) : (['apache', 'zabkeeper'] as const);
    for (const kind of kinds) {
      const t = await startServer(kind);
      targets.push(t);
      cleanup.push(() => t.stop());
    }
    // zabkeeper -> (Apache ->) zabkeeper: each hop imports the previous hop's export, under /copy.
    let previous = exported;
    for (const t of targets) {
      const i = await cli(['import', previous, '--server', t.connectString, '--to', '/copy', '--auth', 'digest:alice:secret']);
      expect([t.kind, i.code, JSON.parse(i.stdout || '{}')]).toEqual([t.kind, 0, { created: NODES + 100 + 3, updated: 0, skipped: 0 }]);
      const again = await cli(['import', previous, '--server', t.connectString, '--to', '/copy']);
      expect([again.code, again.stderr]).toEqual([2, expect.stringMatching(/already exists/)]);
      const out = path.join(dir, `copy-${t.kind}.json`);
      expect((await cli(['export', '/copy', '--server', t.connectString, '--out', out, '--auth', 'digest:alice:secret'])).code).toBe(0);
      const copy = JSON.parse(fs.readFileSync(out, 'utf8')) as ExportFile;
      expect(copy.nodes.map((n) => ({ ...n, path: n.path.replace(/^\/copy/, '/app') }))).toEqual(first.nodes);
      previous = out;
    }
  }, 600_000);
});

test('a directory that is not a zabkeeper data dir is refused, and nothing is created in it', async () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-tools-empty-'));
  try {
    const r = await cli(['snapshot', 'dump', empty]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/is not a zabkeeper data dir/)]);
    expect(fs.readdirSync(empty)).toEqual([]);
    await until(async () => (await cli(['log', 'dump', path.join(empty, 'missing')])).code === 2, 'log dump of a missing dir to fail with 2', 30_000);
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
});
