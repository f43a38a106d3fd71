import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ConnectionLossError, createClient, type ZkClient } from '../../src/client';
import { openSqliteStore } from '../../src/storage/sqlite';
import { encodeTxn } from '../../src/tree';
import { makeZxid } from '../../src/util/zxid';
import { requireBuiltCli, fourLetter } from '../harness/cli';
import { freePort } from '../harness/ports';

/**
 * What an operator sees from the `zabkeeper` command line holds: `server` without a zoo.cfg
 * enforces the SERVER_JVMFLAGS it was given (enforce.auth, -Djute.maxbuffer), a client cut off for
 * an oversized request leaves a WARN line saying why, `dev` prints no spurious warning, the
 * local `ensemble` launcher says when a member dies and how to restart it, the one-member forms of
 * ZooKeeper 3.8's configs (standaloneEnabled=false, a dynamicConfigFile, quorumListenOnAllIPs) run
 * as ZooKeeper runs them, and a member that cannot reach a peer says so.
 */
interface Proc {
  proc: ChildProcess;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const procs: ChildProcess[] = [];
const dirs: string[] = [];

function run(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const proc = spawn(process.execPath, [requireBuiltCli(), ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  procs.push(proc);
  let err = '';
  proc.stderr!.on('data', (d) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  return { proc, stderr: () => err, exited };
}

/** Resolves once `pred` holds on the process's stderr; fails naming what was awaited. */
async function waitStderr(p: Proc, what: string, pred: (s: string) => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred(p.stderr())) {
    if (p.proc.exitCode !== null || p.proc.signalCode !== null) throw new Error(`process exited while waiting for ${what}; stderr:\n${p.stderr()}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stderr:\n${p.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function serving(p: Proc, port: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await fourLetter(port, 'ruok').catch(() => '')) !== 'imok') {
    if (p.proc.exitCode !== null) throw new Error(`server exited with ${p.proc.exitCode}: ${p.stderr()}`);
    if (Date.now() > deadline) throw new Error(`server on ${port} did not answer ruok within 20 s: ${p.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-cli-op-'));
  dirs.push(d);
  return d;
}

afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await Promise.all(procs.map((p) => (p.exitCode === null && p.signalCode === null ? new Promise((r) => p.once('exit', r)) : undefined)));
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

test('server without a zoo.cfg enforces SERVER_JVMFLAGS: enforce.auth closes unauthenticated sessions, -Djute.maxbuffer bounds frames (and says so)', async () => {
  const port = await freePort();
  const flags = '-Xmx512m -Dzookeeper.enforce.auth.enabled=true -Dzookeeper.enforce.auth.schemes=digest -Djute.maxbuffer=2000';
  const p = run(['server', '--port', String(port), '--data-dir', tmp()], { SERVER_JVMFLAGS: flags });
  await serving(p, port);
  let zk: ZkClient | undefined;
  try {
    zk = await createClient(`127.0.0.1:${port}`, { connectTimeoutMs: 10_000 });
    // Unauthenticated: the first request is answered -124 and the connection closed.
    await expect(zk.getChildren('/')).rejects.toMatchObject({ code: -124 });
    await zk.close().catch(() => undefined);
    zk = await createClient(`127.0.0.1:${port}`, { connectTimeoutMs: 10_000, auth: [{ scheme: 'digest', auth: 'ops:secret' }] });
    await zk.create('/fits', Buffer.alloc(1000));
    await expect(zk.create('/too-big', Buffer.alloc(3000))).rejects.toBeInstanceOf(ConnectionLossError);
    await waitStderr(p, 'the WARN line for the oversized frame', (s) =>
      s.split('\n').some((l) => l.includes('"level":40') && l.includes('closing connection: bad request from client') && l.includes('exceeds limit 2000')),
    );
  } finally {
    await zk?.close().catch(() => undefined);
    p.proc.kill('SIGTERM');
    await p.exited;
  }
}, 40_000);

test('a SIGTERM while the server is still starting stops it gracefully once started (exit 0, not killed by the signal)', async () => {
  const port = await freePort();
  // A log of 150k txns: after "database recovered" the start reads it all (about half a second),
  // so the signal lands while the server is still starting.
  const dir = tmp();
  const store = openSqliteStore({ dataDir: dir });
  for (let from = 1; from <= 150_000; from += 5000) {
    const entries = Array.from({ length: 5000 }, (_, k) => {
      const zxid = makeZxid(1, BigInt(from + k));
      return { zxid, data: encodeTxn({ zxid, sessionId: 0n, cxid: 0, time: 1n, body: { type: 'error', err: -110 } }) };
    });
    store.persist({ hardState: { acceptedEpoch: 1, currentEpoch: 1 }, entries });
  }
  store.close();
  const p = run(['dev', '--port', String(port), '--data-dir', dir]);
  await waitStderr(p, '"database recovered"', (s) => s.includes('database recovered'));
  p.proc.kill('SIGTERM');
  const exited = await p.exited;
  // On failure the exit and the end of the server's log, together.
  expect({ ...exited, log: exited.code === 0 ? '' : p.stderr().slice(-1500) }).toEqual({ code: 0, signal: null, log: '' });
  expect(p.stderr()).toContain('"shutting down"');
}, 30_000);

test('dev prints no "clientPort is not set" warning (its port comes from --port)', async () => {
  const port = await freePort();
  const p = run(['dev', '--port', String(port), '--data-dir', tmp()]);
  await waitStderr(p, '"serving clients"', (s) => s.includes('serving clients'));
  p.proc.kill('SIGTERM');
  expect(await p.exited).toEqual({ code: 0, signal: null });
  expect(p.stderr()).not.toContain('clientPort is not set');
}, 30_000);

test('ensemble: a member killed with -9 is reported with its restart command', async () => {
  const base = await freePort();
  const dir = tmp();
  const p = run(['ensemble', '--servers', '1', '--base-port', String(base), '--data-dir', dir]);
  await waitStderr(p, 'member 1 serving', (s) => s.includes('"serving clients"'));
  const children = fs.readFileSync(`/proc/${p.proc.pid}/task/${p.proc.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  expect(children).toHaveLength(1);
  process.kill(children[0]!, 'SIGKILL');
  await waitStderr(p, 'the exit notice', (s) => s.includes('[server 1] was killed by SIGKILL'));
  expect(p.stderr()).toContain(`Restart it with: ${process.execPath} ${requireBuiltCli()} server --config ${path.join(dir, 'zoo1.cfg')}`);
  // Its only member gone, the launcher ends, with a failure code.
  expect((await p.exited).code).toBe(1);
}, 30_000);

describe('zoo.cfg forms ZooKeeper 3.8 runs as an ensemble of one', () => {
  /** Starts `server --config` from the files given (zoo.cfg first) in a fresh dir with myid 1. */
  async function startFrom(files: (dir: string, ports: { client: number; quorum: number; election: number }) => Record<string, string>) {
    const dir = tmp();
    const ports = { client: await freePort(), quorum: await freePort(), election: await freePort() };
    fs.mkdirSync(path.join(dir, 'data'));
    fs.writeFileSync(path.join(dir, 'data', 'myid'), '1\n');
    for (const [name, text] of Object.entries(files(dir, ports))) fs.writeFileSync(path.join(dir, name), text);
    const p = run(['server', '--config', path.join(dir, 'zoo.cfg')]);
    await serving(p, ports.client);
    return { p, ports };
  }
  const head = (dir: string) => `tickTime=2000\ninitLimit=5\nsyncLimit=2\ndataDir=${dir}/data\nadmin.enableServer=false\nstandaloneEnabled=false\n`;

  async function check(p: Proc, port: number, config: string): Promise<void> {
    try {
      // ZooKeeper 3.8 with standaloneEnabled=false and one server line leads a quorum of one.
      expect(await fourLetter(port, 'srvr')).toContain('Mode: leader');
      const zk = await createClient(`127.0.0.1:${port}`, { connectTimeoutMs: 10_000 });
      try {
        await zk.create('/written', Buffer.from('x'));
        expect((await zk.getData('/zookeeper/config')).data?.toString()).toBe(config);
      } finally {
        await zk.close();
      }
    } finally {
      p.proc.kill('SIGTERM');
      await p.exited;
    }
  }

  test('standaloneEnabled=false with one server line: a quorum of one (srvr Mode: leader; /zookeeper/config lists it, version=0)', async () => {
    const { p, ports } = await startFrom((dir, pt) => ({ 'zoo.cfg': `${head(dir)}server.1=127.0.0.1:${pt.quorum}:${pt.election};${pt.client}\n` }));
    await check(p, ports.client, `server.1=127.0.0.1:${ports.quorum}:${ports.election}:participant;0.0.0.0:${ports.client}\nversion=0`);
  }, 30_000);

  test('quorumListenOnAllIPs=true: the quorum port listens on every address, not only the server line\'s host', async () => {
    const { p, ports } = await startFrom((dir, pt) => ({ 'zoo.cfg': `${head(dir)}quorumListenOnAllIPs=true\nserver.1=127.0.0.1:${pt.quorum}:${pt.election};${pt.client}\n` }));
    try {
      // The line says 127.0.0.1; a peer reaching this host by another of its addresses still connects.
      await new Promise<void>((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.2', port: ports.quorum }, () => (s.destroy(), resolve()));
        s.once('error', (err) => reject(new Error(`quorum port ${ports.quorum} on 127.0.0.2: ${err.message}`)));
      });
    } finally {
      p.proc.kill('SIGTERM');
      await p.exited;
    }
  }, 30_000);

  test('zoo.cfg as ZooKeeper 3.8 rewrote it (reconfigEnabled) with its zoo.cfg.dynamic.100000000: /zookeeper/config carries the version of the file name', async () => {
    const { p, ports } = await startFrom((dir, pt) => ({
      'zoo.cfg': `${head(dir)}reconfigEnabled=true\ndynamicConfigFile=${dir}/zoo.cfg.dynamic.100000000\n`,
      'zoo.cfg.dynamic.100000000': `server.1=127.0.0.1:${pt.quorum}:${pt.election}:participant;0.0.0.0:${pt.client}`,
    }));
    await check(p, ports.client, `server.1=127.0.0.1:${ports.quorum}:${ports.election}:participant;0.0.0.0:${ports.client}\nversion=100000000`);
  }, 30_000);
});

test("a member that cannot reach a peer says so at WARN, naming the peer's address and why (a server line whose host does not resolve)", async () => {
  const dir = tmp();
  const [client, quorum, election] = [await freePort(), await freePort(), await freePort()];
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'data', 'myid'), '2\n');
  const peer = 'zk-0.zk-hs.default.svc.cluster.local.invalid';
  fs.writeFileSync(
    path.join(dir, 'zoo.cfg'),
    `tickTime=2000\ninitLimit=5\nsyncLimit=2\ndataDir=${dir}/data\nadmin.enableServer=false\nserver.1=${peer}:2888:3888\nserver.2=127.0.0.1:${quorum}:${election};${client}\nserver.3=127.0.0.1:1:2\n`,
  );
  const p = run(['server', '--config', path.join(dir, 'zoo.cfg')]);
  try {
    await waitStderr(p, 'the WARN line about peer 1', (s) =>
      s.split('\n').some((l) => l.includes('"level":40') && l.includes(`${peer}:2888`) && l.includes('ENOTFOUND') && l.includes('"peer":1')),
    );
  } finally {
    p.proc.kill('SIGTERM');
    await p.exited;
  }
}, 30_000);
