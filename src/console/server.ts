/**
 * The web console: a single page (src/console/ui, served from local files: no CDN, no network)
 * and a JSON/SSE API over this server. Tree browsing and edits go through an ordinary client
 * session on this server's client port, so ACLs, versions and the write path (forwarding to the
 * leader, quorum commit) apply exactly as for any client; sessions and watches are read from the
 * server itself; the ensemble view asks every member `srvr`, so it also shows Apache members.
 *
 * Safety: bound to loopback unless configured otherwise; exposed (a non-loopback address) it
 * refuses to start without console users, and with users every request needs HTTP Basic
 * credentials, checked against ZooKeeper digests (user:base64(sha1(user:password))) and used as
 * that user's digest identity, so ACLs decide what each one may see and change. Edits are off
 * unless enabled. Writes need the X-Zabkeeper-Console header (no cross-site form can send it), and
 * an unauthenticated loopback console only answers Host names that are loopback (DNS rebinding).
 *
 * `handle()` serves one request and says whether it was the console's, so another HTTP server
 * (the AdminServer) can mount it; `ConsoleServer.start` listens on its own port (--console-port).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Logger } from 'pino';
import { generateDigest } from '../acl/digest';
import { BoundedExponentialBackoff, ZkClient, ZkError, type WatchedEvent } from '../client';
import type { ZkServer } from '../server/zkserver';
import { fourLetter, parseMntr, parseSrvr } from './probe';
import { epochOf } from '../util/zxid';

export interface ConsoleOptions {
  /** 0 = any free port. */
  port: number;
  /** Default 127.0.0.1. */
  address?: string;
  /** Allow create, edit and delete. Default false. */
  enableEdits?: boolean;
  /** user -> ZooKeeper digest ("base64(sha1(user:password))", as superDigest holds it). */
  users?: ReadonlyMap<string, string>;
  /** URL prefix. Default /console. */
  base?: string;
}

export class ConsoleConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConsoleConfigError';
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;
const SAMPLE_MS = 1000;
const SAMPLES_KEPT = 300;
const EVENT_STREAMS_MAX = 32;
const UI_FILES: Record<string, string> = { '': 'index.html', 'index.html': 'index.html', 'app.js': 'app.js', 'style.css': 'style.css' };
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/** src/console/ui beside this file (ts-jest) or in the package (dist/src/console -> src/console/ui). */
function uiDir(): string {
  const candidates = [path.join(__dirname, 'ui'), path.join(__dirname, '../../../src/console/ui')];
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'index.html')));
  if (!found) throw new ConsoleConfigError(`console assets not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** JSON with bigints as decimal strings and Buffers as base64 (seen before Buffer.toJSON runs). */
const json = (v: unknown): string =>
  JSON.stringify(v, function (this: Record<string, unknown>, k, x) {
    const raw = this[k];
    return typeof x === 'bigint' ? x.toString() : Buffer.isBuffer(raw) ? raw.toString('base64') : x;
  });

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Member {
  id: number;
  host: string;
  clientPort: number | undefined;
  role: string;
}

export class ConsoleServer {
  private listener: http.Server | undefined;
  private readonly clients = new Map<string, Promise<ZkClient>>();
  private readonly ui = uiDir();
  private readonly base: string;
  private samples: { at: number; values: Record<string, number | string> }[] = [];
  private sampler: NodeJS.Timeout | undefined;
  private metricStreams = 0;
  private eventStreams = 0;
  private readonly leaderHistory: { at: number; leader: number | null; epoch: number }[] = [];

  private constructor(
    private readonly server: ZkServer,
    private readonly opts: ConsoleOptions,
    private readonly logger: Logger,
  ) {
    this.base = opts.base ?? '/console';
  }

  /** Checks the settings (an exposed console without users refuses to start) and builds the handler. */
  static create(server: ZkServer, opts: ConsoleOptions, logger: Logger): ConsoleServer {
    const address = opts.address ?? '127.0.0.1';
    if (!LOOPBACK.test(address) && (opts.users?.size ?? 0) === 0) {
      throw new ConsoleConfigError(`the console on ${address} would be reachable from the network: configure console users (user:digest) or bind it to 127.0.0.1`);
    }
    return new ConsoleServer(server, { ...opts, address }, logger);
  }

  /** create() plus its own listener (--console-port). */
  static async start(server: ZkServer, opts: ConsoleOptions, logger: Logger): Promise<ConsoleServer> {
    const c = ConsoleServer.create(server, opts, logger);
    c.listener = http.createServer((req, res) => {
      if (!c.handle(req, res)) res.writeHead(302, { Location: `${c.base}/` }).end();
    });
    await new Promise<void>((resolve, reject) => {
      c.listener!.once('error', reject);
      c.listener!.listen({ host: c.opts.address, port: opts.port }, () => resolve());
    });
    logger.info({ address: c.opts.address, port: c.port, edits: !!opts.enableEdits }, 'web console listening');
    return c;
  }

  get port(): number {
    const a = this.listener?.address();
    return typeof a === 'object' && a ? a.port : this.opts.port;
  }

  async close(): Promise<void> {
    clearInterval(this.sampler);
    this.sampler = undefined;
    if (this.listener) {
      const closed = new Promise<void>((r) => this.listener!.close(() => r()));
      this.listener.closeAllConnections();
      await closed;
    }
    await Promise.all([...this.clients.values()].map(async (p) => (await p.catch(() => undefined))?.close()));
    this.clients.clear();
  }

  /** Serves one request if it is the console's; false otherwise (for mounting). */
  handle(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://console');
    if (url.pathname !== this.base && !url.pathname.startsWith(this.base + '/')) return false;
    void this.serve(req, res, url).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : err instanceof ZkError ? 409 : 500;
      if (status === 500) this.logger.error({ err }, 'console request failed');
      const body = err instanceof ZkError ? { error: err.message, code: err.codeName } : { error: (err as Error).message };
      if (!res.headersSent) res.writeHead(status, { 'Content-Type': 'application/json', ...(status === 401 ? { 'WWW-Authenticate': 'Basic realm="zabkeeper console"' } : {}) });
      res.end(json(body));
    });
    return true;
  }

  // ------------------------------------------------------------------ access

  /** The caller's identity ("" = anonymous loopback), or an HttpError. */
  private identify(req: http.IncomingMessage): { user: string; secret: string } {
    const users = this.opts.users;
    if (!users || users.size === 0) {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
      if (!LOOPBACK.test(host)) throw new HttpError(403, `Host ${host} refused: an unauthenticated console answers loopback names only`);
      return { user: '', secret: '' };
    }
    const header = req.headers.authorization ?? '';
    const m = /^Basic\s+(.+)$/i.exec(header);
    if (!m) throw new HttpError(401, 'credentials required');
    const pair = Buffer.from(m[1]!, 'base64').toString('utf8');
    const user = pair.slice(0, pair.indexOf(':'));
    const digest = users.get(user);
    if (!digest || generateDigest(pair) !== `${user}:${digest}`) throw new HttpError(401, 'bad credentials');
    return { user, secret: pair };
  }

  /** One session per identity on this server's client port, with that identity's digest auth. */
  private client(who: { user: string; secret: string }): Promise<ZkClient> {
    let c = this.clients.get(who.user);
    if (!c) {
      const host = this.server.options.host === '0.0.0.0' || this.server.options.host === '::' ? '127.0.0.1' : this.server.options.host;
      const zk = new ZkClient(`${host}:${this.server.port}`, {
        sessionTimeoutMs: 30_000,
        // A request whose reply a dropped connection lost is repeated (a write whose first attempt
        // applied then reports what the retry finds, BadVersion or NodeExists, as in Curator),
        // so an operator's click is not an error because the loaded server was slow to answer.
        retryPolicy: new BoundedExponentialBackoff(100, 1000, 5),
        ...(who.secret ? { auth: [{ scheme: 'digest', auth: who.secret }] } : {}),
      });
      c = zk.connect();
      c.catch(() => this.clients.delete(who.user));
      this.clients.set(who.user, c);
    }
    return c;
  }

  // ------------------------------------------------------------------ routing

  private async serve(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const who = this.identify(req);
    const rest = url.pathname.slice(this.base.length).replace(/^\//, '');
    if (!rest.startsWith('api/')) return this.asset(res, rest);
    const route = `${req.method} ${rest.slice(4)}`;
    const mutating = req.method !== 'GET' && req.method !== 'HEAD';
    if (mutating) {
      if (req.headers['x-zabkeeper-console'] !== '1') throw new HttpError(403, 'missing X-Zabkeeper-Console header');
      if (!this.opts.enableEdits) throw new HttpError(403, 'edits are disabled (start the console with edits enabled)');
    }
    switch (route) {
      case 'GET overview':
        return this.send(res, this.overview(who.user));
      case 'GET node':
        return this.send(res, await this.node(await this.client(who), url.searchParams.get('path') ?? '/'));
      case 'POST node':
        return this.send(res, await this.create(await this.client(who), await body(req)));
      case 'PUT node':
        return this.send(res, await this.update(await this.client(who), await body(req)));
      case 'DELETE node':
        return this.send(res, await this.remove(await this.client(who), url.searchParams));
      case 'GET sessions':
        return this.send(res, this.sessions());
      case 'GET ensemble':
        return this.send(res, await this.ensemble());
      case 'GET metrics':
        return this.metrics(req, res);
      case 'GET events':
        return this.events(req, res, await this.client(who), url.searchParams.get('path') ?? '/');
      default:
        throw new HttpError(404, `no such API: ${route}`);
    }
  }

  private asset(res: http.ServerResponse, name: string): void {
    const file = UI_FILES[name];
    if (!file) throw new HttpError(404, `no such file: ${name}`);
    const bytes = fs.readFileSync(path.join(this.ui, file));
    res.writeHead(200, {
      'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'Cache-Control': 'no-cache',
      // Only our own files: no inline script, no third party, no framing.
      'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(bytes);
  }

  private send(res: http.ServerResponse, body: unknown): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(json(body));
  }

  // ------------------------------------------------------------------ API

  private overview(user: string) {
    const s = this.server;
    return {
      mode: s.mode,
      serving: s.isServing,
      zxid: `0x${s.lastZxid().toString(16)}`,
      myid: s.myId,
      clientPort: s.port,
      connections: s.connectionCount,
      znodes: s.db.tree.nodeCount,
      sessions: s.db.sessions.size,
      watches: s.watches.count(),
      edits: !!this.opts.enableEdits,
      user: user || null,
    };
  }

  private async node(zk: ZkClient, p: string) {
    const [{ data, stat }, { acl }, { children }] = await Promise.all([zk.getData(p), zk.getACL(p), zk.getChildren(p)]);
    return { path: p, data: data ?? null, stat, acl, children: children.sort() };
  }

  private async create(zk: ZkClient, b: Record<string, unknown>) {
    const p = str(b.path, 'path');
    const mode = (b.mode as 'persistent' | 'ephemeral' | 'persistentSequential' | 'container' | undefined) ?? 'persistent';
    if (!['persistent', 'persistentSequential', 'container'].includes(mode)) throw new HttpError(400, `mode ${mode} is not offered (an ephemeral would belong to the console's session)`);
    const r = await zk.create(p, dataOf(b), { mode });
    return { path: r.path, stat: r.stat };
  }

  private async update(zk: ZkClient, b: Record<string, unknown>) {
    const version = Number(b.version);
    if (!Number.isInteger(version) || version < 0) throw new HttpError(400, 'version required: edits are conditional');
    return { stat: await zk.setData(str(b.path, 'path'), dataOf(b), { version }) };
  }

  private async remove(zk: ZkClient, q: URLSearchParams) {
    const version = Number(q.get('version'));
    if (!q.has('version') || !Number.isInteger(version) || version < 0) throw new HttpError(400, 'version required: deletes are conditional');
    await zk.delete(str(q.get('path'), 'path'), { version });
    return { deleted: q.get('path') };
  }

  private sessions() {
    const s = this.server;
    const byConn = s.watches.byConnection('all');
    const conns = new Map([...s.allConnections()].map((c) => [c.sessionId, c]));
    return [...s.db.sessions].map(([id, rec]) => {
      const conn = conns.get(id);
      return {
        id: `0x${id.toString(16)}`,
        timeoutMs: rec.timeoutMs,
        client: conn ? conn.remoteAddress : null,
        ephemerals: s.db.tree.getEphemerals(id).sort(),
        watches: conn ? (byConn.get(conn.id) ?? []).sort() : [],
      };
    });
  }

  private members(): Member[] {
    const e = this.server.options.ensemble;
    if (!e) return [{ id: this.server.myId, host: '127.0.0.1', clientPort: this.server.port, role: 'participant' }];
    return e.servers.map((m) => ({
      id: m.id,
      host: m.clientHost && m.clientHost !== '0.0.0.0' ? m.clientHost : m.host,
      clientPort: m.id === this.server.myId ? this.server.port : m.clientPort,
      role: m.role,
    }));
  }

  private async ensemble() {
    const members = await Promise.all(
      this.members().map(async (m) => {
        if (m.clientPort === undefined) return { ...m, mode: 'unknown', zxid: null, reachable: false };
        try {
          const srvr = parseSrvr(await fourLetter(m.clientPort, 'srvr', 1500, m.host));
          return { ...m, mode: srvr.mode ?? 'not serving', zxid: srvr.zxid ?? null, connections: srvr.connections ?? null, znodes: srvr.nodes ?? null, reachable: true };
        } catch {
          return { ...m, mode: 'unreachable', zxid: null, reachable: false };
        }
      }),
    );
    const leader = members.find((m) => m.mode === 'leader' || m.mode === 'standalone');
    const top = leader?.zxid ?? members.reduce<bigint | null>((a, m) => (m.zxid !== null && (a === null || m.zxid > a) ? m.zxid : a), null);
    const epoch = leader?.zxid !== undefined && leader.zxid !== null ? epochOf(leader.zxid) : 0;
    const last = this.leaderHistory[this.leaderHistory.length - 1];
    if (!last || last.leader !== (leader?.id ?? null) || last.epoch !== epoch) this.leaderHistory.push({ at: Date.now(), leader: leader?.id ?? null, epoch });
    if (this.leaderHistory.length > 100) this.leaderHistory.shift();
    return {
      self: this.server.myId,
      members: members.map((m) => ({ ...m, zxid: m.zxid === null ? null : `0x${m.zxid.toString(16)}`, lag: m.zxid !== null && top !== null ? Number(top - m.zxid) : null })),
      leaderHistory: this.leaderHistory,
    };
  }

  /** Server-sent events: the samples kept so far, then one per second while the page listens. */
  private metrics(req: http.IncomingMessage, res: http.ServerResponse): void {
    sse(res);
    for (const s of this.samples) res.write(`data: ${json(s)}\n\n`);
    this.metricStreams++;
    this.ensureSampler();
    req.on('close', () => this.metricStreams--);
    const send = (s: unknown) => res.write(`data: ${json(s)}\n\n`);
    this.listeners.add(send);
    req.on('close', () => this.listeners.delete(send));
  }

  private readonly listeners = new Set<(s: unknown) => void>();

  private ensureSampler(): void {
    if (this.sampler) return;
    const tick = async () => {
      if (this.metricStreams <= 0) {
        clearInterval(this.sampler);
        this.sampler = undefined;
        return;
      }
      try {
        const values = parseMntr(await fourLetter(this.server.port, 'mntr', 1500));
        const sample = { at: Date.now(), values };
        this.samples.push(sample);
        if (this.samples.length > SAMPLES_KEPT) this.samples.shift();
        for (const l of this.listeners) l(sample);
      } catch (err) {
        this.logger.debug({ err }, 'console: mntr sample failed');
      }
    };
    this.sampler = setInterval(() => void tick(), SAMPLE_MS);
    this.sampler.unref();
    void tick();
  }

  /** Server-sent events: every change under `path`, live (a resumable recursive watch). */
  private async events(req: http.IncomingMessage, res: http.ServerResponse, zk: ZkClient, p: string): Promise<void> {
    if (this.eventStreams >= EVENT_STREAMS_MAX) throw new HttpError(503, 'too many event streams');
    const watch = await zk.addWatch(p, { mode: 'persistentRecursive', resumable: true, overflow: 'dropOldest', bufferSize: 10_000 });
    this.eventStreams++;
    sse(res);
    res.write(`event: ready\ndata: ${json({ path: p })}\n\n`);
    req.on('close', () => {
      this.eventStreams--;
      void watch.close();
    });
    for await (const ev of watch) {
      const out: Partial<WatchedEvent> & { at: number } = { at: Date.now(), type: ev.type, state: ev.state, path: ev.path };
      if (ev.zxid !== undefined) out.zxid = ev.zxid;
      if (ev.stat) out.stat = ev.stat;
      res.write(`data: ${json(out)}\n\n`);
    }
  }
}

function sse(res: http.ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
  res.flushHeaders();
}

function str(v: unknown, name: string): string {
  if (typeof v !== 'string' || !v.startsWith('/')) throw new HttpError(400, `${name} must be an absolute path`);
  return v;
}

/** `data` is text unless `encoding` says base64. */
function dataOf(b: Record<string, unknown>): Buffer | null {
  if (b.data === null || b.data === undefined) return null;
  if (typeof b.data !== 'string') throw new HttpError(400, 'data must be a string');
  return b.encoding === 'base64' ? Buffer.from(b.data, 'base64') : Buffer.from(b.data, 'utf8');
}

const BODY_BYTES_MAX = 2 * 1024 * 1024;

function body(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > BODY_BYTES_MAX) {
        reject(new HttpError(413, 'request too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>);
      } catch {
        reject(new HttpError(400, 'body must be JSON'));
      }
    });
    req.on('error', reject);
  });
}
