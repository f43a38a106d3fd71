import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ZkServer } from '../../src/server/zkserver';
import { treeDigest } from '../../src/tree';
import { Writable } from 'node:stream';
import { until } from './wait';
import { defaultServerOptions, type ServerOptions } from '../../src/server/options';
import type { ServerSpec } from '../../src/config';
import { freePort } from './ports';
import { ErrorCode, OpCode } from '../../protocol/jute/constants';
import { WireConnection } from '../../src/client/wire';
import { requests as rq } from '../../src/client/requests';
import { startProxy, type Proxy } from './proxy';

/** One log record of a member (pino's JSON: `server` is the member's 1-based index, `msg` the message). */
export interface LogRecord {
  server: number;
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** An in-process ensemble on loopback: one ZkServer per member, each with its own data dir. */
export interface InProcEnsemble {
  /** With `captureLogs`: every record at info or above, from every member, in order. */
  logs: LogRecord[];
  /** Waits (bounded) until a captured record satisfies `match`; `what` names it in the timeout error. */
  waitLog(match: (r: LogRecord) => boolean, what: string, timeoutMs?: number): Promise<LogRecord>;
  servers: (ZkServer | undefined)[];
  options: ServerOptions[];
  clientPorts: number[];
  connectString: string;
  start(i: number): Promise<void>;
  stop(i: number): Promise<void>;
  leaderIndex(): number;
  waitServing(timeoutMs?: number): Promise<number>;
  /**
   * Tree digests of the running members, taken in one turn once they have all applied the same
   * zxid (bounded wait): equal histories give one digest, whatever commits later (session expiry).
   */
  convergedDigests(timeoutMs?: number): Promise<Set<string>>;
  /**
   * With `proxied`: silently stop the peer link between members i and j (0-based) in both
   * directions — bytes are held, nobody is told, as with iptables DROP — or let it flow again.
   */
  cut(i: number, j: number): void;
  heal(i: number, j: number): void;
  close(): Promise<void>;
}

/**
 * Members log through one pino logger (silent unless ZABKEEPER_TEST_LOG names a level). With
 * `captureLogs`, records at info and above are also kept in `logs`, so a test can wait for the
 * event a log line reports (a refused peer, say) instead of sleeping.
 */
function ensembleLogger(capture: boolean): { logger: pino.Logger; logs: LogRecord[] } {
  const logs: LogRecord[] = [];
  const shown = process.env.ZABKEEPER_TEST_LOG;
  if (!capture) return { logger: pino({ level: shown ?? 'silent' }), logs };
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') logs.push(JSON.parse(line) as LogRecord);
      done();
    },
  });
  const streams: pino.StreamEntry[] = [{ level: 'info', stream: sink }];
  if (shown && shown !== 'silent') streams.push({ level: shown as pino.Level, stream: process.stdout });
  const level = shown && shown !== 'silent' && pino.levels.values[shown]! < pino.levels.values.info! ? shown : 'info';
  return { logger: pino({ level }, pino.multistream(streams)), logs };
}

export async function startInProcEnsemble(
  n: number,
  overrides: Partial<ServerOptions> = {},
  opts: { observers?: number; proxied?: boolean; ensemble?: { initLimit?: number; syncLimit?: number }; captureLogs?: boolean } = {},
): Promise<InProcEnsemble> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'zabkeeper-ens-'));
  const specs: ServerSpec[] = [];
  const clientPorts: number[] = [];
  for (let i = 1; i <= n; i++) {
    // The last `observers` members follow without voting (zoo.cfg `:observer`).
    const role = i > n - (opts.observers ?? 0) ? 'observer' : 'participant';
    specs.push({ id: i, host: '127.0.0.1', quorumPort: await freePort(), electionPort: await freePort(), role });
    clientPorts.push(await freePort());
  }
  // Proxied: member a reaches every member b < a (the larger id dials) through its own proxy, so
  // each link can be cut silently on its own. Only a's view of b's address changes.
  const proxies = new Map<string, Proxy>();
  const viewOf = async (a: ServerSpec): Promise<ServerSpec[]> => {
    if (!opts.proxied) return specs;
    const view: ServerSpec[] = [];
    for (const b of specs) {
      if (b.id >= a.id) view.push(b);
      else {
        const p = await startProxy(b.quorumPort);
        proxies.set(`${a.id}-${b.id}`, p);
        view.push({ ...b, quorumPort: p.port });
      }
    }
    return view;
  };
  const proxyOf = (i: number, j: number): Proxy => {
    const [a, b] = i > j ? [i + 1, j + 1] : [j + 1, i + 1];
    const p = proxies.get(`${a}-${b}`);
    if (!p) throw new Error(`no proxy between members ${i} and ${j} (start the ensemble with proxied: true)`);
    return p;
  };
  const { logger, logs } = ensembleLogger(opts.captureLogs ?? false);
  const views = await Promise.all(specs.map(viewOf));
  const options = specs.map((s, i) =>
    defaultServerOptions({
      port: clientPorts[i],
      dataDir: path.join(root, `s${s.id}`),
      serverId: s.id,
      tickTimeMs: 100,
      fourLetterWhitelist: '*',
      // Every member shares this one event loop with the test: on a loaded CI machine it can stall
      // for longer than 5 ticks (0.5 s), and a leader that misses its quorum for syncLimit ticks
      // rightly steps down, closing every client connection mid-test. 30 ticks (3 s) rides that
      // out; killed or stopped members are still noticed at once (their connections close).
      ensemble: { myid: s.id, servers: views[i], initLimit: opts.ensemble?.initLimit ?? 30, syncLimit: opts.ensemble?.syncLimit ?? 30 },
      // For the same reason the tests' 6 s sessions are granted as asked: the default cap of 20
      // ticks (2 s) is shorter than the 3 s above, so a 2–3 s stall of this loop let the leader
      // expire a session nobody had a turn to touch and closed the test's connection (the
      // inproc.test.ts "session resumed elsewhere" failures under load). Shorter sessions a test
      // asks for are still granted as asked.
      maxSessionTimeoutMs: 60_000,
      ...overrides,
    }),
  );
  const servers: (ZkServer | undefined)[] = new Array(n).fill(undefined);
  const ens: InProcEnsemble = {
    logs,
    waitLog(match, what, timeoutMs = 20_000) {
      if (!opts.captureLogs) throw new Error('waitLog needs startInProcEnsemble(..., { captureLogs: true })');
      return until(() => logs.find(match), () => `a log record: ${what} (${logs.length} records captured)`, timeoutMs);
    },
    servers,
    options,
    clientPorts,
    connectString: clientPorts.map((p) => `127.0.0.1:${p}`).join(','),
    async start(i) {
      servers[i] = await ZkServer.start(options[i], logger.child({ server: i + 1 }));
    },
    async stop(i) {
      const s = servers[i];
      servers[i] = undefined;
      if (s) await s.close();
    },
    leaderIndex() {
      return servers.findIndex((s) => s?.mode === 'leader' && s.isServing);
    },
    async waitServing(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const live = servers.filter((s): s is ZkServer => s !== undefined);
        const leader = ens.leaderIndex();
        if (leader >= 0 && live.every((s) => s.isServing)) return leader;
        if (Date.now() > deadline) {
          throw new Error(`ensemble not serving: ${servers.map((s, i) => `${i + 1}:${s ? `${s.mode}/${s.isServing}` : 'down'}`).join(' ')}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async convergedDigests(timeoutMs = 10_000) {
      const live = () => servers.filter((s): s is ZkServer => s !== undefined);
      const zxids = () => live().map((s) => s.db.lastProcessedZxid);
      return until(
        () => (new Set(zxids()).size === 1 ? new Set(live().map((s) => treeDigest(s.db))) : undefined),
        () => `every member to apply the same zxid (now ${zxids().map((z) => `0x${z.toString(16)}`).join(', ')})`,
        timeoutMs,
      );
    },
    cut: (i, j) => proxyOf(i, j).pause(),
    heal: (i, j) => proxyOf(i, j).resume(),
    async close() {
      for (const p of proxies.values()) p.resume();
      for (let i = 0; i < n; i++) await ens.stop(i);
      for (const p of proxies.values()) await p.close();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
  for (let i = 0; i < n; i++) await ens.start(i);
  return ens;
}

/**
 * Creates `path` through member `via` (the leader when omitted), reconnecting and retrying when
 * the connection is lost — on a loaded machine an in-process member can miss its lease and drop
 * its clients, as a real one would. A retry that finds the node already there is success (the lost
 * attempt had committed). The session is closed before returning.
 */
export async function createSurely(ens: InProcEnsemble, path: string, data: Buffer | null, via?: number): Promise<void> {
  await until(async () => {
    const member = via ?? (await ens.waitServing());
    const c = await WireConnection.connect({ host: '127.0.0.1', port: ens.clientPorts[member], sessionTimeoutMs: 6000, connectTimeoutMs: 2000 });
    try {
      const r = await rq.create(c, path, data);
      if (r.err !== ErrorCode.ok && r.err !== ErrorCode.nodeExists) throw new Error(`create ${path}: error ${r.err}`);
      // End the session now rather than leave an expiry to commit later.
      await c.request(OpCode.closeSession).catch(() => undefined);
      return true;
    } finally {
      c.close();
    }
  }, `create ${path} to be acknowledged`);
}
