import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { until } from '../harness/wait';
import { canUseNamespaces, childOf, createLab, pidInNamespace, type Lab } from './netns';

/**
 * The container as Kubernetes would run it, without a container runtime: three members, each the
 * entrypoint run as PID 1 of its own PID namespace (unshare --pid --fork --mount-proc) inside its own
 * network namespace with its own address, configured only by the official image's ZOO_* variables
 * (3.5+ server lines, no clientPort key). Kill -9 of the leader's PID 1: the other two elect a new
 * leader and keep every acknowledged write; the killed member restarts on its data dir and rejoins.
 * Needs root (skips cleanly without it).
 */
const ROOT = path.resolve(__dirname, '../..');
const ENTRYPOINT = path.join(ROOT, 'deploy/docker/docker-entrypoint.sh');
const reason = canUseNamespaces();
const maybe = reason ? describe.skip : describe;
if (reason) test.skip(`namespace deployment: ${reason}`, () => undefined);

interface Member {
  id: number;
  /** `unshare` (our child); its child is PID 1 of the member's PID namespace. */
  unshare?: ChildProcess;
  exited?: Promise<void>;
}

maybe('three members as PID 1 in their own PID and network namespaces', () => {
  let lab: Lab;
  let dir: string;
  const members: Member[] = [1, 2, 3].map((id) => ({ id }));

  const start = (m: Member) => {
    const base = path.join(dir, `m${m.id}`);
    const env = {
      PATH: `${path.join(ROOT, 'bin')}:${process.env.PATH}`,
      HOSTNAME: `zk${m.id}`,
      ZOO_MY_ID: String(m.id),
      ZOO_SERVERS: [1, 2, 3].map((i) => `server.${i}=zk${i}:2888:3888;2181`).join(' '),
      // The image's defaults otherwise (initLimit 5, syncLimit 2). A shorter tick than the image's
      // 2000 keeps the test quick; 500 ms makes syncLimit 1 s, which a busy CI machine's stalls stay
      // under (at 200 ms, 400 ms did not: a member re-elected and reset the probe's connection).
      ZOO_TICK_TIME: '500',
      ...(process.env.ZK_KEEP_NETNS_LOGS ? { ZABKEEPER_LOG_LEVEL: 'debug' } : {}),
      ZOO_4LW_COMMANDS_WHITELIST: '*',
      ZOO_CONF_DIR: path.join(base, 'conf'),
      ZOO_DATA_DIR: path.join(base, 'data'),
      ZOO_DATA_LOG_DIR: path.join(base, 'datalog'),
      ZOO_LOG_DIR: path.join(base, 'logs'),
      ZOO_ENTRYPOINT_D: path.join(base, 'entrypoint.d'),
    };
    const log = fs.openSync(path.join(dir, `m${m.id}.log`), 'a');
    m.unshare = lab.spawnIn(m.id, 'unshare', ['--pid', '--fork', '--mount-proc', ENTRYPOINT, 'zabkeeper', 'server'], { env, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const child = m.unshare;
    m.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  };

  /** The member's server process, in our PID namespace (PID 1 in its own). */
  const pid1 = (m: Member) => until(() => (m.unshare?.pid ? childOf(m.unshare.pid) : undefined), `member ${m.id}'s PID 1`, 10_000);

  const modes = (ms: Member[]) => lab.probe<(string | null)[]>({ op: 'srvr', hosts: ms.map((m) => lab.addr(m.id)) });

  const log = (m: Member) => fs.readFileSync(path.join(dir, `m${m.id}.log`), 'utf8').split('\n').slice(-30).join('\n');

  const waitServing = (ms: Member[]) =>
    until(async () => {
      const now = await modes(ms);
      return now.every((x) => x === 'leader' || x === 'follower') && now.includes('leader') && now;
    }, () => `members ${ms.map((m) => m.id).join(',')} serving with a leader; logs:\n${ms.map(log).join('\n----\n')}`, 60_000, 100);

  /** Client requests go through the probe in the client namespace, as from another pod. */
  const create = (m: Member, paths: string[]) => lab.probe<number[]>({ op: 'create', host: lab.addr(m.id), paths });
  const children = (m: Member, p: string) => lab.probe<string[]>({ op: 'children', host: lab.addr(m.id), path: p });

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-netns-'));
    lab = createLab(3, (i) => `zk${i}`, ROOT);
    for (const m of members) start(m);
  });

  afterAll(async () => {
    for (const m of members) {
      const pid = m.unshare?.pid === undefined ? undefined : childOf(m.unshare.pid);
      if (pid !== undefined) process.kill(pid, 'SIGTERM');
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(members.map((m) => m.exited)), new Promise((r) => (timer = setTimeout(r, 15_000)))]);
    clearTimeout(timer);
    for (const m of members) if (m.unshare?.exitCode === null) m.unshare.kill('SIGKILL');
    lab?.cleanup();
    if (process.env.ZK_KEEP_NETNS_LOGS) process.stderr.write(`namespace test logs kept in ${dir}\n`);
    else fs.rmSync(dir, { recursive: true, force: true });
  });

  test('each member is PID 1 of its namespace, binds its own address from its server line, and they elect a leader', async () => {
    await waitServing(members);
    for (const m of members) {
      expect(pidInNamespace(await pid1(m))).toBe(1);
      const cfg = fs.readFileSync(path.join(dir, `m${m.id}`, 'conf', 'zoo.cfg'), 'utf8');
      expect(cfg).toContain(`server.${m.id}=zk${m.id}:2888:3888;2181`);
      expect(cfg).not.toMatch(/^clientPort=/m);
    }
  }, 90_000);

  test('kill -9 of the leader: a new leader, nothing acknowledged lost; the member restarts and rejoins', async () => {
    const before = await waitServing(members);
    const leader = members[before.indexOf('leader')]!;
    const others = members.filter((m) => m !== leader);
    const zeros = (n: number) => Array.from({ length: n }, () => 0);
    expect(await create(others[0]!, ['/pods', ...Array.from({ length: 20 }, (_, i) => `/pods/before-${i}`)])).toEqual(zeros(21));

    process.kill(await pid1(leader), 'SIGKILL');
    await leader.exited;
    await waitServing(others);
    expect(await create(others[1]!, Array.from({ length: 20 }, (_, i) => `/pods/after-${i}`))).toEqual(zeros(20));

    start(leader);
    await waitServing(members);
    expect(await modes([leader])).toEqual(['follower']);
    const expected = [...Array.from({ length: 20 }, (_, i) => `after-${i}`), ...Array.from({ length: 20 }, (_, i) => `before-${i}`)].sort();
    for (const m of members) expect(await children(m, '/pods')).toEqual(expected);
  }, 120_000);
});
