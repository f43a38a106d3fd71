import type { Logger } from 'pino';
import { monitorEntries } from '../fourlw';
import type { MetricsView, NamespaceQuota } from '../metrics/catalog';
import { PrometheusExporter } from '../metrics/prometheus';
import { AdminServer, type AdminHost } from '../admin/server';
import { quota, serializeSnapshot, type Txn } from '../tree';
import { ErrorCode, OpCode } from '../../protocol/jute/constants';
import type { MultiOp } from '../../protocol/jute/multi';
import type { ServerOptions } from './options';
import type { ZkServer } from './zkserver';
import { AuditLog } from './audit';

/** The operator-facing listeners of one server; closed before the server stops. */
export interface Operations {
  /** Bound ports (0 when that listener is off). */
  readonly metricsPort: number;
  readonly adminPort: number;
  /** The running AdminServer, if any (other HTTP handlers, the web console, mount on it). */
  readonly admin?: AdminServer;
  /** audit.enable=true: the audit log the write path reports to. */
  readonly audit?: AuditLog;
  close(): Promise<void>;
}

/** What a scrape (or the AdminServer's monitor) reads from the running server. */
export function metricsView(server: ZkServer): MetricsView {
  return {
    monitor: new Map(monitorEntries(server.statusSnapshot())),
    hub: server.metrics,
    stats: server.stats,
    quotas: namespaceQuotas(server),
  };
}

/** QuotaMetricsUtils: limits (hard if set, else soft) and usage of every quota, summed per top-level namespace. */
function namespaceQuotas(server: ZkServer): NamespaceQuota[] {
  const byNs = new Map<string, NamespaceQuota>();
  for (const root of quota.quotaRoots(server.db.tree)) {
    const q = quota.quotaState(server.db.tree, root);
    if (!q) continue;
    const namespace = quota.topNamespace(root);
    const limit = (hard: string, soft: string) => (quota.statValue(q.limits, hard) > -1 ? quota.statValue(q.limits, hard) : quota.statValue(q.limits, soft));
    const acc = byNs.get(namespace) ?? { namespace, countLimit: 0, bytesLimit: 0, countUsage: 0, bytesUsage: 0 };
    acc.countLimit += limit(quota.COUNT_HARD, quota.COUNT);
    acc.bytesLimit += limit(quota.BYTES_HARD, quota.BYTES);
    acc.countUsage += q.usage.count;
    acc.bytesUsage += q.usage.bytes;
    byNs.set(namespace, acc);
  }
  return [...byNs.values()];
}

/** The path a write was rejected for with QuotaExceeded (a multi: the failing op's), else undefined. */
export function quotaRejectedPath(opCode: number, body: unknown, txn: Txn): string | undefined {
  const b = txn.body;
  if (b.type === 'error' && b.err === ErrorCode.quotaExceeded) return (body as { path?: string }).path;
  if (b.type === 'multiError' && opCode === OpCode.multi) {
    const i = b.results.indexOf(ErrorCode.quotaExceeded);
    return i < 0 ? undefined : (body as MultiOp[])[i]?.request.path;
  }
  return undefined;
}

/** quota_exceeded_error_per_namespace, and a log line at most once a second (ZooKeeper's RateLogger). */
export function noteQuotaExceeded(server: ZkServer, path: string, now: number): void {
  if (!server.metrics.noteQuotaExceeded(quota.topNamespace(path), now)) return;
  const root = quota.quotaRootOf(server.db.tree, path);
  server.logger.warn({ path, quota: root }, `Quota exceeded: ${root} (hard limit; request for ${path} rejected with QuotaExceeded)`);
}

/** Secrets a system_properties answer must not show (ZooKeeper shows every system property). */
const SECRET_KEY = /digest|password|secret|passwd/i;

/** The AdminServer's view of a live server. */
export function adminHost(server: ZkServer): AdminHost {
  const o = server.options;
  return {
    snapshot: () => server.statusSnapshot(),
    myId: server.myId,
    get ensemble() {
      const e = o.ensemble;
      const q = server.quorumStatus();
      if (!e || !q) return undefined;
      return { servers: e.servers, leaderId: q.leader, epoch: q.epoch, lastZxid: server.lastZxid(), phase: q.phase, isLeader: server.mode === 'leader' };
    },
    get learners() {
      return server.learnerStatus();
    },
    lastSnapshot: () => {
      const snaps = server.store.listSnapshots();
      const last = snaps[snaps.length - 1];
      return last && { zxid: last.zxid, createdAtMs: last.createdAt };
    },
    initialConfiguration: o.configText ?? '',
    systemProperties: () => {
      const props: Record<string, string> = {
        'file.separator': '/',
        'line.separator': '\n',
        'os.arch': process.arch,
        'os.name': process.platform,
        'user.dir': process.cwd(),
        'node.version': process.version,
      };
      // ZooKeeper turns every zoo.cfg key it does not parse itself into zookeeper.<key>.
      for (const line of (o.configText ?? '').split('\n')) {
        const m = /^\s*([^#!\s=:]+)\s*[=:]\s*(.*)$/.exec(line);
        if (m && !m[1]!.startsWith('server.')) props[`zookeeper.${m[1]}`] = SECRET_KEY.test(m[1]!) ? '[redacted]' : m[2]!.trim();
      }
      return props;
    },
    resetConnectionStats: () => {
      for (const c of server.allConnections()) c.resetStats();
    },
    resetServerStats: () => server.stats.reset(),
    setTraceMask: (mask) => {
      server.fourLetter.traceMask = mask;
    },
    isServing: () => server.isServing,
    authenticate: (scheme, auth) => server.authenticate(scheme, Buffer.from(auth, 'utf8')),
    rootAcl: () => server.db.tree.get('/')?.acl ?? [],
    takeSnapshot: () => ({ zxid: server.db.lastProcessedZxid, data: serializeSnapshot(server.db) }),
  };
}

/**
 * Starts what options.operations asks for: the Prometheus endpoint (a port it cannot bind stops
 * the start, as ZooKeeper's provider does) and the AdminServer (on by default, as in ZooKeeper; a
 * port it cannot bind is logged as an error and the server serves its clients without it).
 */
export async function startOperations(server: ZkServer, options: ServerOptions, logger: Logger): Promise<Operations> {
  const ops = options.operations;
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await c();
  };
  let metricsPort = 0;
  let adminPort = 0;
  let adminServer: AdminServer | undefined;
  const audit = ops?.auditEnabled ? new AuditLog(logger.child({ component: 'audit' })) : undefined;
  if (audit) {
    audit.server('serverStart');
    closers.push(async () => audit.server('serverStop'));
  }
  try {
    if (ops?.metrics.provider === 'prometheus') {
      const exporter = new PrometheusExporter(ops.metrics, () => metricsView(server), server.metrics, logger.child({ component: 'metrics' }));
      closers.push(() => exporter.close());
      metricsPort = await exporter.start();
    }
    // A TLS-only server (no plaintext client port) opens no plain-HTTP listener it was not asked for.
    const tlsOnly = options.listenPlaintext === false && !ops?.admin.explicit;
    if (ops?.admin.enabled && tlsOnly) logger.info('AdminServer (on by default) not started: the client port is TLS-only; set admin.enableServer=true to start it (plain HTTP)');
    if (ops?.admin.enabled && !tlsOnly) {
      const admin = new AdminServer(ops.admin, adminHost(server), logger.child({ component: 'admin' }));
      try {
        adminPort = await admin.start();
        adminServer = admin;
        closers.push(() => admin.close());
      } catch (err) {
        // ZooKeeper exits here; a busy 8080 (another member on this host, a Tomcat) must not keep
        // the coordination service from serving its clients, so zabkeeper says so and goes on.
        logger.error({ err: (err as Error).message, address: ops.admin.address, port: ops.admin.port }, `AdminServer not started: cannot listen on ${ops.admin.address}:${ops.admin.port}; set admin.serverPort (or admin.enableServer=false)`);
      }
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { metricsPort, adminPort, ...(adminServer ? { admin: adminServer } : {}), audit, close };
}
