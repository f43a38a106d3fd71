import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadConfig, assertNoErrors, resolveClientAddress } from '../../src/config';
import { buildProgram } from '../../src/cli/index';

/**
 * The container entrypoint writes exactly the zoo.cfg the official ZooKeeper image writes from the
 * same variables (and zabkeeper reads it), keeps a mounted zoo.cfg and an existing myid, runs
 * /docker-entrypoint.d/; the Kubernetes manifest and the Dockerfile hang together (probes call real
 * commands, selectors match, the member id comes from the pod ordinal).
 */
const ROOT = path.resolve(__dirname, '../..');
const ENTRYPOINT = path.join(ROOT, 'deploy/docker/docker-entrypoint.sh');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function entrypoint(env: Record<string, string>, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(ENTRYPOINT, args, { env: { PATH: process.env.PATH!, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('docker-entrypoint.sh', () => {
  let dir: string;
  let env: Record<string, string>;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-entry-'));
    // Every directory the script creates is under the temp dir (the image's /data etc. are not).
    env = {
      ZOO_CONF_DIR: path.join(dir, 'conf'),
      ZOO_DATA_DIR: path.join(dir, 'data'),
      ZOO_DATA_LOG_DIR: path.join(dir, 'datalog'),
      ZOO_LOG_DIR: path.join(dir, 'logs'),
      ZOO_ENTRYPOINT_D: path.join(dir, 'entrypoint.d'),
    };
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('writes the zoo.cfg the official image writes for the compose example, and myid', async () => {
    // The official image's data dirs are /data and /datalog; only those two lines are redirected here.
    const data = env.ZOO_DATA_DIR!;
    const r = await entrypoint({ ...env, ZOO_MY_ID: '2', ZOO_SERVERS: 'server.1=zoo1:2888:3888;2181 server.2=zoo2:2888:3888;2181 server.3=zoo3:2888:3888;2181' }, ['true']);
    expect(r.code).toBe(0);
    const cfg = fs.readFileSync(path.join(env.ZOO_CONF_DIR!, 'zoo.cfg'), 'utf8');
    // OPERATIONS.md 1.2: the file 31z4/zookeeper-docker's entrypoint writes with these variables.
    expect(cfg.replace(`dataDir=${data}\ndataLogDir=${dir}/datalog\n`, 'dataDir=/data\ndataLogDir=/datalog\n')).toBe(
      [
        'dataDir=/data', 'dataLogDir=/datalog', 'tickTime=2000', 'initLimit=5', 'syncLimit=2', 'autopurge.snapRetainCount=3',
        'autopurge.purgeInterval=0', 'maxClientCnxns=60', 'standaloneEnabled=true', 'admin.enableServer=true',
        'server.1=zoo1:2888:3888;2181', 'server.2=zoo2:2888:3888;2181', 'server.3=zoo3:2888:3888;2181', '',
      ].join('\n'),
    );
    expect(fs.readFileSync(path.join(data, 'myid'), 'utf8')).toBe('2\n');
    // zabkeeper reads it: the 3.5+ form gives member 2 its own client port with no clientPort key.
    const parsed = assertNoErrors(loadConfig(path.join(env.ZOO_CONF_DIR!, 'zoo.cfg')), 'zoo.cfg');
    expect([parsed.myid, parsed.quorumMode, resolveClientAddress(parsed).address]).toEqual([2, true, { host: '0.0.0.0', port: 2181 }]);
  });

  test('every variable lands on its key; whitelist and ZOO_CFG_EXTRA come last; nothing is overwritten on restart', async () => {
    const vars = {
      ZOO_TICK_TIME: '500', ZOO_INIT_LIMIT: '7', ZOO_SYNC_LIMIT: '3', ZOO_AUTOPURGE_SNAPRETAINCOUNT: '4', ZOO_AUTOPURGE_PURGEINTERVAL: '6',
      ZOO_MAX_CLIENT_CNXNS: '0', ZOO_STANDALONE_ENABLED: 'false', ZOO_ADMINSERVER_ENABLED: 'false', ZOO_4LW_COMMANDS_WHITELIST: 'srvr,ruok',
      ZOO_CFG_EXTRA: 'enforceQuota=true audit.enable=true', ZOO_DATA_DIR: path.join(dir, 'd'), ZOO_MY_ID: '3',
    };
    expect((await entrypoint({ ...env, ...vars }, ['true'])).code).toBe(0);
    const file = path.join(env.ZOO_CONF_DIR!, 'zoo.cfg');
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toEqual([
      `dataDir=${vars.ZOO_DATA_DIR}`, `dataLogDir=${env.ZOO_DATA_LOG_DIR}`, 'tickTime=500', 'initLimit=7', 'syncLimit=3', 'autopurge.snapRetainCount=4',
      'autopurge.purgeInterval=6', 'maxClientCnxns=0', 'standaloneEnabled=false', 'admin.enableServer=false',
      'server.1=localhost:2888:3888;2181', '4lw.commands.whitelist=srvr,ruok', 'enforceQuota=true', 'audit.enable=true',
    ]);
    // A second start (or a mounted zoo.cfg, or an existing myid) changes nothing.
    expect((await entrypoint({ ...env, ...vars, ZOO_TICK_TIME: '9999', ZOO_MY_ID: '9' }, ['true'])).code).toBe(0);
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toEqual(lines);
    expect(fs.readFileSync(path.join(vars.ZOO_DATA_DIR, 'myid'), 'utf8')).toBe('3\n');
  });

  test('/docker-entrypoint.d: *.envsh sourced, executable *.sh run, in name order; `zabkeeper server` gets --config', async () => {
    fs.mkdirSync(env.ZOO_ENTRYPOINT_D!);
    fs.writeFileSync(path.join(env.ZOO_ENTRYPOINT_D!, '10-id.envsh'), 'export ZOO_MY_ID=$(( ${HOSTNAME##*-} + 1 ))\n');
    fs.writeFileSync(path.join(env.ZOO_ENTRYPOINT_D!, '20-mark.sh'), `#!/bin/sh\necho "ran with $ZOO_MY_ID" > ${dir}/marker\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(env.ZOO_ENTRYPOINT_D!, '30-skip.sh'), 'exit 1\n', { mode: 0o644 });
    // A stand-in `zabkeeper` on PATH that prints the arguments it was given.
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'zabkeeper'), '#!/bin/sh\necho "$@"\n', { mode: 0o755 });
    const data = path.join(dir, 'data');
    const r = await entrypoint({ ...env, ZOO_DATA_DIR: data, HOSTNAME: 'zabkeeper-2', PATH: `${bin}:${process.env.PATH}` }, ['zabkeeper', 'server']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`server --config ${env.ZOO_CONF_DIR}/zoo.cfg\n`);
    expect(r.stderr).toMatch(/ignoring .*30-skip.sh, not executable/);
    expect(fs.readFileSync(path.join(dir, 'marker'), 'utf8')).toBe('ran with 3\n');
    expect(fs.readFileSync(path.join(data, 'myid'), 'utf8')).toBe('3\n');
  });
});

describe('deploy/kubernetes/zabkeeper.yaml', () => {
  const docs = parseAllDocuments(fs.readFileSync(path.join(ROOT, 'deploy/kubernetes/zabkeeper.yaml'), 'utf8')).map((d) => d.toJSON());
  const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
  const sts = byKind('StatefulSet')[0];
  const pod = sts.spec.template;
  const container = pod.spec.containers[0];
  const envOf = (name: string) => container.env.find((e: { name: string }) => e.name === name)?.value as string;

  test('headless Service, client Service, PDB, StatefulSet with a PVC per member; selectors match the pods', () => {
    expect(docs.map((d) => d.kind).sort()).toEqual(['ConfigMap', 'PodDisruptionBudget', 'Service', 'Service', 'StatefulSet']);
    const labels = pod.metadata.labels;
    const matches = (sel: Record<string, string>) => Object.entries(sel).every(([k, v]) => labels[k] === v);
    const headless = byKind('Service').find((s) => s.spec.clusterIP === 'None');
    expect(headless.metadata.name).toBe(sts.spec.serviceName);
    expect(headless.spec.publishNotReadyAddresses).toBe(true);
    for (const s of byKind('Service')) expect(matches(s.spec.selector)).toBe(true);
    expect(matches(byKind('PodDisruptionBudget')[0].spec.selector.matchLabels)).toBe(true);
    expect(matches(sts.spec.selector.matchLabels)).toBe(true);
    expect(sts.spec.volumeClaimTemplates.map((v: { metadata: { name: string } }) => v.metadata.name)).toEqual(['data']);
    expect(container.volumeMounts.find((m: { name: string }) => m.name === 'data').mountPath).toBe(envOf('ZOO_DATA_DIR'));
    const containerPorts = new Set(container.ports.map((p: { containerPort: number }) => p.containerPort));
    for (const s of byKind('Service')) for (const p of s.spec.ports) expect(containerPorts.has(p.port)).toBe(true);
    expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
  });

  test('probes call zabkeeper commands that exist: readiness = serving (status), liveness = ruok', () => {
    const commands = new Set(buildProgram().commands.map((c) => c.name()));
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      const [bin, cmd] = probe.exec.command as string[];
      expect([bin, commands.has(cmd!)]).toEqual(['zabkeeper', true]);
    }
    expect(container.readinessProbe.exec.command[1]).toBe('status');
    expect(container.livenessProbe.exec.command[1]).toBe('ruok');
  });

  test('the pod\'s variables and /docker-entrypoint.d give each member a valid ensemble zoo.cfg', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-k8s-'));
    try {
      const entryD = path.join(dir, 'entrypoint.d');
      fs.mkdirSync(entryD);
      const cm = byKind('ConfigMap')[0];
      for (const [name, text] of Object.entries(cm.data as Record<string, string>)) fs.writeFileSync(path.join(entryD, name), text);
      for (const ordinal of [0, 1, 2]) {
        const env: Record<string, string> = { HOSTNAME: `zabkeeper-${ordinal}`, ZOO_ENTRYPOINT_D: entryD };
        for (const e of container.env as { name: string; value?: string }[]) {
          if (e.value !== undefined) env[e.name] = e.value.replace(/\$\(POD_NAMESPACE\)/g, 'ns1');
        }
        const base = path.join(dir, String(ordinal));
        Object.assign(env, { ZOO_CONF_DIR: path.join(base, 'conf'), ZOO_DATA_DIR: path.join(base, 'data'), ZOO_DATA_LOG_DIR: path.join(base, 'data/log'), ZOO_LOG_DIR: path.join(base, 'logs') });
        expect((await entrypoint(env, ['true'])).code).toBe(0);
        const cfg = assertNoErrors(loadConfig(path.join(base, 'conf/zoo.cfg')), 'zoo.cfg');
        expect(cfg.myid).toBe(ordinal + 1);
        expect(cfg.servers.map((s) => s.host)).toEqual([0, 1, 2].map((i) => `zabkeeper-${i}.zabkeeper-headless.ns1.svc.cluster.local`));
        expect([cfg.quorumMode, cfg.operations.metrics.provider, cfg.operations.metrics.httpPort]).toEqual([true, 'prometheus', 7000]);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('the Dockerfile is multi-stage, runs as a non-root user and copies what exists', () => {
  const text = fs.readFileSync(path.join(ROOT, 'deploy/docker/Dockerfile'), 'utf8');
  const lines = text.split('\n').filter((l) => !l.startsWith('#'));
  expect(lines.filter((l) => l.startsWith('FROM ')).length).toBe(2);
  const users = lines.filter((l) => l.startsWith('USER '));
  expect(users.length).toBe(1);
  expect(users[0]).not.toMatch(/root|\b0\b/);
  expect(text).toMatch(/ENTRYPOINT \["\/docker-entrypoint.sh"\]/);
  for (const l of lines.filter((x) => /^COPY (?!--from)/.test(x))) {
    const sources = l.split(/\s+/).slice(1, -1);
    for (const src of sources) expect([src, fs.existsSync(path.join(ROOT, src))]).toEqual([src, true]);
  }
  // Every ZOO_ default the image sets is also the entrypoint's default (the script runs alone in tests).
  const script = fs.readFileSync(ENTRYPOINT, 'utf8');
  for (const [, k, v] of text.matchAll(/(ZOO_[A-Z_0-9]+)=(\S+?)\s*\\?$/gm)) expect(script).toContain(`: "\${${k}:=${v}}"`);
});
