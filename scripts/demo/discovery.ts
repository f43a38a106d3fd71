/**
 * Service discovery demo.
 *
 *   npm run demo:discovery -- [--connect 127.0.0.1:2181] [--service api] [--base /services]
 *
 * Instance processes (this file with `--role instance`) register themselves with the
 * ServiceRegistry recipe: an ephemeral znode `<base>/<service>/<id>` holding Curator's JSON, so
 * it lives exactly as long as the instance's session. A watcher process (`--role watcher`) keeps
 * a live view with ServiceDiscovery.cache() and prints the membership whenever it changes.
 * The orchestrator starts instances one by one, stops one cleanly (SIGTERM: it unregisters at
 * once), crashes one (kill -9: its node goes when the session expires, about one session timeout
 * later), starts another, and finally checks that the watcher's view, ZooKeeper's children and
 * the set of running instances agree. Prints a timeline and, last, one JSON summary line.
 */
import { Command } from 'commander';
import { createClient } from '../../src/client';
import { ServiceDiscovery, ServiceRegistry } from '../../src/recipes';
import { DemoChild, DEFAULT_CONNECT, Timeline, intOption, makeReporter, printSummary, siblingScript, sleep, waitFor, type ChildEvent } from './lib/common';

interface Args {
  role: 'orchestrator' | 'instance' | 'watcher';
  connect: string;
  service: string;
  base: string;
  sessionTimeoutMs: number;
  id: string;
  port: number;
  zone: string;
  json: boolean;
}

interface Payload {
  zone: string;
  pid: number;
}

// ------------------------------------------------------------------ roles

async function runInstance(args: Args): Promise<void> {
  const report = makeReporter(`instance-${args.id}`, args.json);
  const client = await createClient(args.connect, { sessionTimeoutMs: args.sessionTimeoutMs });
  const registry = new ServiceRegistry(client, args.base);
  client.on('state', (s) => report('state', { state: s }));
  const me = await registry.register<Payload>({ name: args.service, id: args.id, address: '127.0.0.1', port: args.port, payload: { zone: args.zone, pid: process.pid } });
  report('registered', { id: me.id, port: me.port, session: `0x${client.sessionId.toString(16)}` });
  const stop = () =>
    void (async () => {
      await registry.close(); // unregister first: watchers see us leave now, not after a session timeout
      report('unregistered', { id: me.id });
      await client.close();
      process.exit(0);
    })();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function runWatcher(args: Args): Promise<void> {
  const report = makeReporter('watcher', args.json);
  const client = await createClient(args.connect, { sessionTimeoutMs: args.sessionTimeoutMs });
  client.on('state', (s) => report('state', { state: s }));
  const cache = await new ServiceDiscovery(client, args.base).cache<Payload>(args.service);
  let last = '';
  const show = (): void => {
    const members = cache
      .instances()
      .map((i) => ({ id: i.id, address: `${i.address}:${i.port}`, zone: i.payload?.zone ?? null }))
      .sort((a, b) => a.id.localeCompare(b.id));
    const key = JSON.stringify(members);
    if (key === last) return; // a data change that did not change membership
    last = key;
    report('membership', { members });
  };
  cache.on('change', show);
  show();
  report('ready', { pid: process.pid });
  const stop = () => void cache.close().then(() => client.close()).then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// ------------------------------------------------------------------ orchestrator

interface InstanceRecord {
  id: string;
  port: number;
  startedAtMs: number;
  seenAtMs: number | null;
  stoppedAtMs: number | null;
  how: 'SIGTERM' | 'SIGKILL' | null;
  goneSeenAtMs: number | null;
}

class Orchestrator {
  readonly tl = new Timeline();
  readonly instances = new Map<string, { child: DemoChild; rec: InstanceRecord }>();
  readonly views: { tMs: number; members: string[] }[] = [];
  readonly errors: string[] = [];
  watcher: DemoChild | undefined;
  private nextPort = 8080;

  constructor(private readonly args: Args) {}

  private common(): string[] {
    const a = this.args;
    return ['--connect', a.connect, '--service', a.service, '--base', a.base, '--session-timeout', String(a.sessionTimeoutMs), '--json'];
  }

  get view(): string[] {
    return this.views.at(-1)?.members ?? [];
  }

  startWatcher(): DemoChild {
    this.watcher = new DemoChild('watcher', siblingScript('discovery'), ['--role', 'watcher', ...this.common()], (e) => this.onWatcherEvent(e), (l) => this.tl.line('watcher', `| ${l}`));
    return this.watcher;
  }

  private onWatcherEvent(e: ChildEvent): void {
    if (e.ev === 'ready') return this.tl.line('watcher', 'watching', e.t);
    if (e.ev === 'state') return this.tl.line('watcher', `connection state: ${String(e.state)}`, e.t);
    if (e.ev !== 'membership') return;
    const members = (e.members as { id: string; address: string; zone: string | null }[]) ?? [];
    const ids = members.map((m) => m.id);
    const before = new Set(this.view);
    this.views.push({ tMs: this.tl.rel(e.t), members: ids });
    for (const id of ids) {
      const r = this.instances.get(id)?.rec;
      if (r && !before.has(id) && r.seenAtMs === null) r.seenAtMs = this.tl.rel(e.t);
    }
    for (const id of before) {
      const r = this.instances.get(id)?.rec;
      if (r && !ids.includes(id) && r.stoppedAtMs !== null && r.goneSeenAtMs === null) r.goneSeenAtMs = this.tl.rel(e.t);
    }
    const list = members.map((m) => `${m.id}@${m.address}(${m.zone})`).join(', ');
    this.tl.line('watcher', `live ${this.args.service} instances (${members.length}): ${list || '-'}`, e.t);
  }

  startInstance(id: string): DemoChild {
    const port = this.nextPort++;
    const zone = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'][this.instances.size % 3]!;
    const child = new DemoChild(
      id,
      siblingScript('discovery'),
      ['--role', 'instance', '--id', id, '--port', String(port), '--zone', zone, ...this.common()],
      (e) => {
        if (e.ev === 'registered') this.tl.line(id, `registered ${this.args.base}/${this.args.service}/${id} (port ${String(e.port)}, session ${String(e.session)})`, e.t);
        else if (e.ev === 'unregistered') this.tl.line(id, 'unregistered', e.t);
        else if (e.ev === 'state') this.tl.line(id, `connection state: ${String(e.state)}`, e.t);
      },
      (l) => this.tl.line(id, `| ${l}`),
    );
    this.instances.set(id, { child, rec: { id, port, startedAtMs: this.tl.rel(Date.now()), seenAtMs: null, stoppedAtMs: null, how: null, goneSeenAtMs: null } });
    this.tl.line('demo', `started instance ${id} (pid ${child.pid})`);
    return child;
  }

  async stopInstance(id: string, how: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const { child, rec } = this.instances.get(id)!;
    rec.stoppedAtMs = this.tl.rel(Date.now());
    rec.how = how;
    this.tl.line('demo', how === 'SIGKILL' ? `kill -9 instance ${id}: its node stays until the session expires` : `stopping instance ${id} cleanly (SIGTERM)`);
    child.signal(how);
    await child.exited;
  }

  running(): string[] {
    return [...this.instances.values()].filter((i) => i.rec.stoppedAtMs === null).map((i) => i.rec.id).sort();
  }

  /** Waits until the watcher's view equals the running instances. */
  async awaitView(what: string, boundMs: number): Promise<number | null> {
    const want = JSON.stringify(this.running());
    return waitFor(what, () => JSON.stringify([...this.view].sort()) === want, boundMs).catch((err: unknown) => (this.errors.push(String(err)), null));
  }
}

async function runOrchestrator(args: Args): Promise<void> {
  const o = new Orchestrator(args);
  const admin = await createClient(args.connect, { sessionTimeoutMs: args.sessionTimeoutMs });
  const st = admin.sessionTimeoutMs;
  const bound = 4 * st + 10_000;
  o.tl.line('demo', `service discovery: service "${args.service}" under ${args.base} on ${args.connect}, session timeout ${st} ms`);
  const steps: Record<string, boolean> = {};
  let zkMembers: string[] = [];
  try {
    o.startWatcher();
    await waitFor('the watcher', () => o.views.length > 0, 20_000);
    for (const id of ['api-1', 'api-2', 'api-3', 'api-4']) {
      o.startInstance(id);
      steps[`join ${id}`] = (await o.awaitView(`the watcher to see ${id}`, 20_000)) !== null;
    }
    await sleep(300);
    await o.stopInstance('api-2', 'SIGTERM');
    steps['leave api-2 (SIGTERM)'] = (await o.awaitView('the watcher to see api-2 leave', bound)) !== null;
    await o.stopInstance('api-3', 'SIGKILL');
    steps['leave api-3 (kill -9)'] = (await o.awaitView('the watcher to see api-3 expire', bound)) !== null;
    o.startInstance('api-5');
    steps['join api-5'] = (await o.awaitView('the watcher to see api-5', 20_000)) !== null;
    await sleep(300);
    zkMembers = await new ServiceDiscovery(admin, args.base).instances(args.service).then((l) => l.map((i) => i.id).sort());
    o.tl.line('admin', `ZooKeeper has ${args.base}/${args.service}: [${zkMembers.join(', ')}]`);
  } catch (err) {
    o.errors.push(String(err));
  } finally {
    o.tl.line('demo', '=== shutdown ===');
    const watcherFinal = [...o.view].sort();
    await o.watcher?.stop();
    await Promise.all([...o.instances.values()].map((i) => i.child.stop()));
    await admin.close();
    const expected = o.running();
    const problems = [...o.errors, ...Object.entries(steps).filter(([, ok]) => !ok).map(([k]) => `step ${k} failed`)];
    const same = (a: string[], b: string[]) => JSON.stringify(a) === JSON.stringify(b);
    if (!same(watcherFinal, expected)) problems.push(`watcher view [${watcherFinal}] != running [${expected}]`);
    if (!same(zkMembers, expected)) problems.push(`ZooKeeper [${zkMembers}] != running [${expected}]`);
    const summary = {
      summary: 'discovery',
      ok: problems.length === 0,
      problems,
      service: args.service,
      sessionTimeoutMs: st,
      instances: [...o.instances.values()].map(({ rec: r }) => ({
        ...r,
        // From process start to the watcher listing it (includes node start-up and connecting).
        joinSeenAfterMs: r.seenAtMs === null ? null : r.seenAtMs - r.startedAtMs,
        // From the signal to the watcher dropping it: immediate on SIGTERM, ~ a session timeout on kill -9.
        leaveSeenAfterMs: r.goneSeenAtMs === null || r.stoppedAtMs === null ? null : r.goneSeenAtMs - r.stoppedAtMs,
      })),
      steps,
      views: o.views,
      finalMembership: watcherFinal,
      zkMembership: zkMembers,
      expectedMembership: expected,
      converged: same(watcherFinal, expected) && same(zkMembers, expected),
    };
    o.tl.line('demo', summary.ok ? `OK: the watcher tracked every join and leave; live = [${expected.join(', ')}]` : `PROBLEMS: ${problems.join('; ')}`);
    printSummary(summary);
    process.exitCode = summary.ok ? 0 : 1;
  }
}

function parseArgs(argv: string[]): Args {
  const o = new Command('discovery')
    .option('--role <role>', 'orchestrator | instance | watcher', 'orchestrator')
    .option('--connect <hosts>', 'ZooKeeper connect string (host:port,...[/chroot])', DEFAULT_CONNECT)
    .option('--service <name>', 'service name', 'api')
    .option('--base <path>', 'registry base path', '/services')
    .option('--session-timeout <ms>', 'requested session timeout', '6000')
    .option('--id <id>', 'instance id (instance role)', 'api-1')
    .option('--port <port>', 'advertised port (instance role)', '8080')
    .option('--zone <zone>', 'payload: availability zone (instance role)', 'local')
    .option('--json', 'one JSON event per line (instance and watcher roles)', false)
    .parse(argv)
    .opts();
  const role = String(o.role);
  if (role !== 'orchestrator' && role !== 'instance' && role !== 'watcher') throw new Error(`unknown role ${role}`);
  return {
    role,
    connect: String(o.connect),
    service: String(o.service),
    base: String(o.base),
    sessionTimeoutMs: intOption('session-timeout', o.sessionTimeout),
    id: String(o.id),
    port: intOption('port', o.port),
    zone: String(o.zone),
    json: Boolean(o.json),
  };
}

const ROLES: Readonly<Record<Args['role'], (a: Args) => Promise<void>>> = { orchestrator: runOrchestrator, instance: runInstance, watcher: runWatcher };

const args = parseArgs(process.argv);
ROLES[args.role](args).catch((err: unknown) => {
  process.stderr.write(`discovery demo (${args.role}): ${String(err)}\n`);
  process.exit(1);
});
