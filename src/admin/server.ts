import http from 'node:http';
import type { Logger } from 'pino';
import { Perms } from '../../protocol/jute/constants';
import type { Id } from '../../protocol/jute/data';
import { checkAcl } from '../acl';
import type { AdminConfig } from '../config/operations';
import { closeServer, listen } from '../util/http';
import { PRIMARY_NAMES, primaryName, runCommand, SNAPSHOT_NAMES, type AdminContext } from './commands';
import { jacksonJson, type JsonObject } from './json';

/** What the HTTP shell needs beyond the commands: serving state, auth and the snapshot bytes. */
export interface AdminHost extends AdminContext {
  isServing(): boolean;
  /** Ids for `Authorization: <scheme> <auth>` (undefined: bad credentials), as the client port's addauth. */
  authenticate(scheme: string, auth: string): Id[] | undefined;
  /** ACL of "/" (3.9: the snapshot command needs ALL permissions on the root). */
  rootAcl(): Parameters<typeof checkAcl>[0];
  /** A consistent snapshot of the database, taken now. */
  takeSnapshot(): { zxid: bigint; data: Buffer };
}

const JSON_TYPE = 'application/json';

/**
 * Commands that reveal znode paths or other clients' sessions. The four-letter words they mirror
 * are off by default (see fourlw/commands.ts); over HTTP they are answered to loopback callers, and
 * to others only with credentials (as the snapshot command), when admin.serverAddress exposes them.
 */
const REVEALING = new Set(['connections', 'dump', 'watches', 'watches_by_path']);

const isLoopback = (ip: string): boolean => ip.startsWith('127.') || ip === '::1';

/**
 * ZooKeeper's AdminServer over node:http: `GET <commandURL>` lists the commands, `GET
 * <commandURL>/<name or alias>?args` answers with the command's JSON (HTTP 200 even for errors,
 * as ZooKeeper 3.8 does). `snapshot` (ZooKeeper 3.9) streams a consistent snapshot to an
 * authenticated caller with ALL permissions on "/", at most once per rateLimiterIntervalInMS.
 * Bound to admin.serverAddress, loopback unless configured otherwise.
 */
function remoteIp(req: http.IncomingMessage): string {
  return (req.socket.remoteAddress ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
}

export class AdminServer {
  private server: http.Server | undefined;
  private lastSnapshotAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly cfg: AdminConfig,
    private readonly host: AdminHost,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<number> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = this.cfg.idleTimeoutMs;
    this.server.headersTimeout = Math.min(60_000, this.cfg.idleTimeoutMs + 1000);
    const port = await listen(this.server, this.cfg.address, this.cfg.port);
    this.logger.info({ address: this.cfg.address, port, url: this.cfg.commandUrl }, 'AdminServer started');
    return port;
  }

  async close(): Promise<void> {
    if (this.server) await closeServer(this.server);
  }

  private readonly mounted: ((req: http.IncomingMessage, res: http.ServerResponse) => boolean)[] = [];

  /** Serves another handler's paths on this port first (the web console under /console). */
  mount(handler: (req: http.IncomingMessage, res: http.ServerResponse) => boolean): void {
    this.mounted.push(handler);
  }

  /** The address this server is bound to (admin.serverAddress). */
  get address(): string {
    return this.cfg.address;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.mounted.some((h) => h(req, res))) return;
    const url = new URL(req.url ?? '/', 'http://admin');
    const base = this.cfg.commandUrl === '/' ? '' : this.cfg.commandUrl;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('Only GET is supported\n');
      return;
    }
    if (url.pathname === base || url.pathname === `${base}/`) {
      const list = PRIMARY_NAMES.map((n) => `<a href="${base}/${n}">${n}</a>\n<br/>\n`).join('');
      res.writeHead(200, { 'Content-Type': 'text/html' }).end(list);
      return;
    }
    if (!url.pathname.startsWith(`${base}/`)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`Not found; commands are under ${this.cfg.commandUrl}\n`);
      return;
    }
    const name = decodeURIComponent(url.pathname.slice(base.length + 1));
    try {
      if (SNAPSHOT_NAMES.includes(name)) return this.snapshot(req, res);
      const primary = primaryName(name);
      if (primary && REVEALING.has(primary) && !isLoopback(remoteIp(req))) {
        const denied = this.authorize(req);
        if (denied) return this.json(res, denied.status, { command: primary, error: denied.error });
      }
      const body = runCommand(this.host, name, url.searchParams, this.host.isServing());
      this.json(res, 200, body);
    } catch (err) {
      this.logger.error({ err, command: name }, 'admin command failed');
      this.json(res, 500, { command: primaryName(name) ?? name, error: (err as Error).message });
    }
  }

  private json(res: http.ServerResponse, status: number, body: JsonObject): void {
    res.writeHead(status, { 'Content-Type': JSON_TYPE }).end(jacksonJson(body));
  }

  /**
   * ZooKeeper 3.9's admin auth: `Authorization: <scheme> <auth>` through the auth providers, and
   * the caller's ids (plus its IP) must have ALL permissions on "/". Undefined when allowed.
   */
  private authorize(req: http.IncomingMessage): { status: number; error: string } | undefined {
    const header = req.headers.authorization;
    if (!header) return { status: 401, error: 'Auth info is missing for the command' };
    const [scheme = '', ...rest] = header.trim().split(/\s+/);
    const ids = this.host.authenticate(scheme, rest.join(' '));
    if (!ids) return { status: 401, error: 'Not authenticated' };
    if (!checkAcl(this.host.rootAcl(), Perms.all, [{ scheme: 'ip', id: remoteIp(req) }, ...ids])) return { status: 403, error: 'Not authorized' };
    return undefined;
  }

  /** ZooKeeper 3.9's SnapshotCommand: auth, rate limit, then the snapshot bytes with their zxid in a header. */
  private snapshot(req: http.IncomingMessage, res: http.ServerResponse): void {
    const fail = (status: number, error: string) => this.json(res, status, { command: 'snapshot', error });
    if (!this.cfg.snapshotEnabled) return fail(503, 'snapshot command is disabled');
    if (!this.host.isServing()) return fail(200, 'This ZooKeeper instance is not currently serving requests');
    const denied = this.authorize(req);
    if (denied) return fail(denied.status, denied.error);
    const remote = remoteIp(req);
    const now = Date.now();
    if (now - this.lastSnapshotAt < this.cfg.rateLimiterIntervalMs) return fail(429, 'Too many requests');
    this.lastSnapshotAt = now;
    const snap = this.host.takeSnapshot();
    this.logger.info({ remote, zxid: `0x${snap.zxid.toString(16)}`, bytes: snap.data.length }, 'snapshot sent to an admin client');
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': snap.data.length,
      last_zxid: `0x${snap.zxid.toString(16)}`,
      snapshot_size: String(snap.data.length),
    });
    res.end(req.method === 'HEAD' ? undefined : snap.data);
  }
}
