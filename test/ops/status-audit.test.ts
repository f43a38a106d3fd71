import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { CreateFlags, OpCode, Xid } from '../../protocol/jute/constants';
import { writeAuthPacket } from '../../protocol/jute/records';
import { WireConnection } from '../../src/client/wire';
import { requests as rq } from '../../src/client/requests';
import { ZkServer } from '../../src/server/zkserver';
import { defaultServerOptions } from '../../src/server/options';
import { defaultOperationsConfig } from '../../src/config/operations';
import { startServer, zabkeeperCli, repoRoot, type TestServer } from '../harness/servers';
import { startEnsemble } from '../../scripts/lib/ensemble-process';
import { freePort } from '../../scripts/lib/zk-process';

/**
 * `zabkeeper status` prints what `zkServer.sh status` prints (same lines against the same zoo.cfg)
 * with exit codes scripts can use, identical through bin/zabkeeper and dist/src/cli/index.js; the
 * audit log writes one line per client write with ZooKeeper's fields, on the member that holds the
 * client's connection.
 */
interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

const LAUNCHERS = [
  (args: string[]) => run(process.execPath, [zabkeeperCli(), ...args]),
  (args: string[]) => run(path.join(repoRoot(), 'bin', 'zabkeeper'), args),
];

describe('zabkeeper status', () => {
  const started: TestServer[] = [];
  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop()));
  });

  test('prints the lines zkServer.sh status prints for the same zoo.cfg, and exits 0', async () => {
    const apacheToo = process.env.ZK_COMPAT_TARGETS !== 'zabkeeper';
    const servers = await Promise.all((apacheToo ? (['zabkeeper', 'apache'] as const) : (['zabkeeper'] as const)).map((k) => startServer(k)));
    started.push(...servers);
    const ours = await Promise.all(LAUNCHERS.map((l) => l(['status', '--config', servers[0]!.cfgPath])));
    for (const r of ours) {
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`Client port found: ${servers[0]!.port}. Client address: 127.0.0.1. Client SSL: false.\nMode: standalone\n`);
      expect(r.stderr).toBe(`Using config: ${servers[0]!.cfgPath}\n`);
    }
    if (!apacheToo) return;
    const theirs = await run('/usr/share/zookeeper/bin/zkServer.sh', ['status', servers[1]!.cfgPath]);
    expect(theirs.code).toBe(0);
    expect(theirs.stdout).toBe(ours[0]!.stdout.replace(String(servers[0]!.port), String(servers[1]!.port)));
  });

  test('exit codes: 1 not running, 2 usage, 3 invalid zoo.cfg, 4 running without a quorum; --json', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-status-'));
    try {
      const port = await freePort();
      const cfg = path.join(dir, 'zoo.cfg');
      fs.writeFileSync(cfg, `dataDir=${dir}\nclientPort=${port}\nclientPortAddress=127.0.0.1\n`);
      for (const launch of LAUNCHERS) {
        const down = await launch(['status', '--config', cfg]);
        expect([down.code, down.stdout.split('\n')[1]]).toEqual([1, 'Error contacting service. It is probably not running.']);
        expect((await launch(['status', '--server', 'nonsense'])).code).toBe(2);
        fs.writeFileSync(path.join(dir, 'bad.cfg'), 'tickTime=abc\n');
        const bad = await launch(['status', '--config', path.join(dir, 'bad.cfg')]);
        expect(bad.code).toBe(3);
        expect(bad.stderr).toMatch(/bad\.cfg:1: tickTime must be an integer/);
      }
      // One member of a 3-member ensemble alone: running, answering srvr, but not serving.
      const ens = await startEnsemble('zabkeeper', 3, { tickTime: 500 });
      try {
        await ens.waitServing();
        await Promise.all([ens.members[1]!.stop(), ens.members[2]!.stop()]);
        const m = ens.members[0]!;
        const lonely = await LAUNCHERS[1]!(['status', '--config', m.cfgPath]);
        expect(lonely.code).toBe(4);
        const json = JSON.parse((await LAUNCHERS[0]!(['status', '--server', `127.0.0.1:${m.clientPort}`, '--json'])).stdout);
        expect(json).toMatchObject({ state: 'notServing', mode: null, port: m.clientPort });
        await ens.members[1]!.start();
        await ens.waitServing();
        const back = JSON.parse((await LAUNCHERS[0]!(['status', '--config', m.cfgPath, '--json'])).stdout);
        expect(back.state).toBe('serving');
        expect(['leader', 'follower']).toContain(back.mode);
      } finally {
        await ens.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('audit log (audit.enable=true)', () => {
  test('one line per client write with ZooKeeper\'s fields, failures at error level, ephemerals on session close', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l));
        done();
      },
    });
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-audit-'));
    const operations = { ...defaultOperationsConfig(), auditEnabled: true };
    operations.admin.enabled = false;
    const server = await ZkServer.start(defaultServerOptions({ dataDir, port: 0, operations }), pino({ level: 'info' }, sink));
    try {
      const c = await WireConnection.connect({ host: '127.0.0.1', port: server.port, sessionTimeoutMs: 5000 });
      await c.request(OpCode.auth, (w) => writeAuthPacket(w, { type: 0, scheme: 'digest', auth: Buffer.from('alice:secret') }), undefined, Xid.auth);
      await rq.create(c, '/a', Buffer.from('x'));
      await rq.create(c, '/a', Buffer.from('x'));
      await rq.create(c, '/a/s-', null, CreateFlags.ephemeralSequential);
      await rq.setData(c, '/a', Buffer.from('y'));
      await rq.setACL(c, '/a', [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }, { perms: 1, id: { scheme: 'ip', id: '10.0.0.1' } }]);
      await rq.multi(c, [
        { type: OpCode.create, request: { path: '/m', data: null, acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], flags: 0 } },
        { type: OpCode.delete, request: { path: '/m', version: -1 } },
      ]);
      await rq.multi(c, [{ type: OpCode.delete, request: { path: '/nope', version: -1 } }]);
      await rq.getData(c, '/a');
      const sid = `0x${c.session.sessionId.toString(16)}`;
      await c.request(OpCode.closeSession, () => undefined);
      c.close();
      await server.close();
      const audit = lines.filter((l) => l.component === 'audit').map(({ level, session, user, ip, operation, znode, znode_type, acl, result }) => ({ level, session, user, ip, operation, znode, znode_type, acl, result }));
      const client = { session: sid, user: '127.0.0.1,alice', ip: '127.0.0.1' };
      const me = os.userInfo().username;
      expect(audit).toEqual([
        { level: 30, user: me, operation: 'serverStart', result: 'invoked' },
        { level: 30, ...client, operation: 'create', znode: '/a', znode_type: 'persistent', result: 'success' },
        { level: 50, ...client, operation: 'create', znode: '/a', znode_type: 'persistent', result: 'failure' },
        { level: 30, ...client, operation: 'create', znode: '/a/s-0000000000', znode_type: 'ephemeral_sequential', result: 'success' },
        { level: 30, ...client, operation: 'setData', znode: '/a', result: 'success' },
        { level: 30, ...client, operation: 'setAcl', znode: '/a', acl: 'world:anyone:cdrwaip:10.0.0.1:r', result: 'success' },
        { level: 30, ...client, operation: 'create', znode: '/m', znode_type: 'persistent', result: 'success' },
        { level: 30, ...client, operation: 'delete', znode: '/m', result: 'success' },
        { level: 50, ...client, operation: 'multiOperation', result: 'failure' },
        { level: 30, session: sid, user: me, operation: 'ephemeralZNodeDeletionOnSessionCloseOrExpire', znode: '/a/s-0000000000', result: 'success' },
        { level: 30, user: me, operation: 'serverStop', result: 'invoked' },
      ].map((e: Record<string, unknown>) => ({ level: undefined, session: undefined, user: undefined, ip: undefined, operation: undefined, znode: undefined, znode_type: undefined, acl: undefined, result: undefined, ...e })));
    } finally {
      await server.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('in an ensemble, a write through a follower is audited by that follower only', async () => {
    const ens = await startEnsemble('zabkeeper', 3, { tickTime: 500, extraCfg: { 'audit.enable': 'true' } });
    try {
      await ens.waitServing();
      const leader = await ens.waitLeader();
      const follower = (leader + 1) % 3;
      const c = await WireConnection.connect({ host: '127.0.0.1', port: ens.members[follower]!.clientPort, sessionTimeoutMs: 5000 });
      await rq.create(c, '/via-follower', Buffer.from('x'));
      await c.request(OpCode.sync, (w) => w.writeString('/'));
      c.close();
      const logOf = (k: number) => fs.readFileSync(ens.members[k]!.cfgPath.replace(/zoo(\d+)\.cfg$/, 's$1.log'), 'utf8');
      const audited = (k: number) => logOf(k).split('\n').filter((l) => l.includes('"component":"audit"') && l.includes('/via-follower'));
      expect(audited(follower)).toHaveLength(1);
      expect(JSON.parse(audited(follower)[0]!)).toMatchObject({ operation: 'create', znode: '/via-follower', ip: '127.0.0.1', result: 'success' });
      expect(audited(leader)).toEqual([]);
    } finally {
      await ens.stop();
    }
  }, 120_000);
});
