/**
 * The zoo.cfg files users actually have start working ensembles: each member in its own network
 * namespace on the file's own host names and ports elects once, keeps one leader (same member,
 * same epoch, no failed write, no client disconnect) under a write load, and survives kill -9 of
 * the leader with nothing acknowledged lost; Kafka's standalone file serves and survives kill -9.
 * Load phase: ZK_CONFIG_MATRIX_SECS (default 15 s in `npm test`; `npm run test:config-matrix` runs
 * the full 60 s). The namespace rows need root and are skipped without it; the loopback row
 * (the official image's 3.5+ form with a client port per server line) runs everywhere.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from '../../src/client';
import { netnsSupport } from '../../scripts/lib/nemesis-net';
import { fourLetter, freePort, zabkeeperCli } from '../../scripts/lib/zk-process';
import { until } from '../harness/wait';

const SCRIPT = path.resolve(__dirname, '../../dist/scripts/nemesis-config-matrix.js');
const DIR = path.join(__dirname, 'config-matrix');
const SECS = Number(process.env.ZK_CONFIG_MATRIX_SECS ?? 15);
const support = netnsSupport();
const maybe = support.ok ? describe : describe.skip;
if (!support.ok) console.log(`config matrix namespace rows skipped: ${support.why}`);

function runRow(args: string[]): Promise<{ code: number; out: string }> {
  if (!fs.existsSync(SCRIPT)) throw new Error(`${SCRIPT} is missing: run \`npm run build\` (npm test does it in pretest)`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SCRIPT, ...args, '--secs', String(SECS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    child.once('exit', (code) => resolve({ code: code ?? 1, out }));
  });
}

const BITNAMI_HOSTS = [0, 1, 2].map((i) => `my-release-zookeeper-${i}.my-release-zookeeper-headless.default.svc.cluster.local`).join(',');
const K8S_HOSTS = [0, 1, 2].map((i) => `zk-${i}.zk-hs.default.svc.cluster.local`).join(',');

maybe('config matrix: real zoo.cfg files, members in network namespaces', () => {
  test.each<[string, string[]]>([
    ["ZooKeeper's Getting Started (tickTime=2000 initLimit=5 syncLimit=2)", ['--cfg', path.join(DIR, 'getting-started.cfg')]],
    ["Debian's /etc/zookeeper/conf/zoo.cfg with server lines appended", ['--cfg', '/etc/zookeeper/conf/zoo.cfg', '--name', 'debian', '--append-servers']],
    ["the official Docker image's generated 3.5+ file (no clientPort key)", ['--cfg', path.join(DIR, 'docker.cfg')]],
    ["Bitnami's Helm chart (3.5+ server lines and clientPort)", ['--cfg', path.join(DIR, 'bitnami.cfg'), '--hosts', BITNAMI_HOSTS]],
    ["the Kubernetes tutorial's generated file", ['--cfg', path.join(DIR, 'kubernetes-tutorial.cfg'), '--hosts', K8S_HOSTS]],
    ["Kafka's bundled zookeeper.properties (standalone)", ['--cfg', path.join(DIR, 'kafka-zookeeper.properties'), '--name', 'kafka', '--members', '1', '--hosts', 'zookeeper']],
  ])('%s', async (_name, args) => {
    const { code, out } = await runRow(args);
    // Without a summary line the run could not finish: its last lines are the reason, so they go
    // into the assertion (CI shows failing assertions whole, a long console log only in part).
    const summary = out.split('\n').find((l) => l.startsWith('config-matrix ') && / (PASS|FAIL): /.test(l)) ?? `(no summary; last lines:)\n${out.trimEnd().split('\n').slice(-25).join('\n')}`;
    console.log(code === 0 ? out.split('\n').filter((l) => /^\[|^FAIL|^config-matrix \S+ (PASS|FAIL)/.test(l)).join('\n') : out.split('\n').slice(-100).join('\n'));
    expect({ code, summary }).toEqual({ code: 0, summary: expect.stringMatching(/ PASS: /) });
  }, 120_000 + SECS * 1000);
});

describe('config matrix on loopback: the 3.5+ form with a client port per server line', () => {
  test('every member binds the client port of its own server line (no clientPort key), and they form one ensemble', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'zabkeeper-35form-'));
    const ports = await Promise.all([1, 2, 3].map(async () => ({ client: await freePort(), quorum: await freePort(), election: await freePort() })));
    const children: ReturnType<typeof spawn>[] = [];
    try {
      for (let i = 1; i <= 3; i++) {
        const dataDir = path.join(root, `m${i}`);
        fs.mkdirSync(dataDir);
        fs.writeFileSync(path.join(dataDir, 'myid'), `${i}\n`);
        // The official image's file, on loopback: only the ports differ between members.
        const cfg = [
          `dataDir=${dataDir}`, 'tickTime=200', 'initLimit=10', 'syncLimit=5', 'standaloneEnabled=true', 'admin.enableServer=true', '4lw.commands.whitelist=*',
          ...ports.map((p, k) => `server.${k + 1}=127.0.0.1:${p.quorum}:${p.election};${p.client}`),
        ].join('\n');
        fs.writeFileSync(path.join(root, `zoo${i}.cfg`), cfg + '\n');
        const log = fs.openSync(path.join(root, `m${i}.log`), 'w');
        children.push(spawn(process.execPath, [zabkeeperCli(), 'server', '--config', path.join(root, `zoo${i}.cfg`)], { stdio: ['ignore', log, log] }));
        fs.closeSync(log);
      }
      const modes = await until(
        async () => {
          const m = await Promise.all(ports.map((p) => fourLetter(p.client, 'srvr', 1000).then((t) => /Mode: (\w+)/.exec(t)?.[1] ?? 'none', () => 'down')));
          return m.filter((x) => x === 'leader').length === 1 && m.filter((x) => x === 'follower').length === 2 ? m : undefined;
        },
        () => `one leader and two followers, each answering on its own client port (logs: ${[1, 2, 3].map((i) => fs.readFileSync(path.join(root, `m${i}.log`), 'utf8').slice(-400)).join(' | ')})`,
        60_000,
        200,
      );
      expect(modes.sort()).toEqual(['follower', 'follower', 'leader']);
      const zk = await createClient(ports.map((p) => `127.0.0.1:${p.client}`).join(','), { sessionTimeoutMs: 4000 });
      await zk.create('/form35', 'ok');
      await zk.close();
    } finally {
      for (const c of children) c.kill('SIGKILL');
      await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, 90_000);
});
