/**
 * The operator-facing zoo.cfg keys: the Prometheus metrics provider (`metricsProvider.*`), the
 * AdminServer (`admin.*`), the audit log (`audit.enable`) and quota enforcement (`enforceQuota`).
 * ZooKeeper reads them as system properties (`zookeeper.<key>`) or passes them to its provider;
 * we read them here, with the same names and defaults. Pure: zoocfg.ts hands each entry over.
 *
 * Fail closed: HTTPS for the metrics endpoint is refused here; the AdminServer's HTTPS keys
 * (admin.forceHttps, admin.portUnification, admin.needClientAuth) are refused by security.ts, which
 * zoo.cfg consults first.
 */

export const PROMETHEUS_PROVIDER = 'org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider';
export const DEFAULT_PROVIDER = 'org.apache.zookeeper.metrics.impl.DefaultMetricsProvider';

export interface MetricsConfig {
  /** 'prometheus' serves /metrics over HTTP; 'default' keeps metrics in mntr/monitor only. */
  provider: 'default' | 'prometheus';
  httpHost: string;
  httpPort: number;
  /** ZooKeeper exports JVM metrics; we export Node's process metrics (and heap under jvm_memory_*). */
  exportJvmInfo: boolean;
}

export interface AdminConfig {
  enabled: boolean;
  /** True when zoo.cfg said admin.enableServer=true (a TLS-only server starts its AdminServer only then). */
  explicit: boolean;
  /** Loopback by default (ZooKeeper binds 0.0.0.0): set admin.serverAddress to expose it. */
  address: string;
  port: number;
  commandUrl: string;
  idleTimeoutMs: number;
  /** ZooKeeper 3.9's snapshot command (a consistent snapshot streamed to an authorized caller). */
  snapshotEnabled: boolean;
  /** Minimum ms between two snapshot commands (3.9: admin.rateLimiterIntervalInMS, 5 min). */
  rateLimiterIntervalMs: number;
}

export interface OperationsConfig {
  metrics: MetricsConfig;
  admin: AdminConfig;
  /** audit.enable: one audit line per client write. */
  auditEnabled: boolean;
  /** enforceQuota: hard quota limits reject creates and setData with QuotaExceeded (-125). */
  enforceQuota: boolean;
}

export function defaultOperationsConfig(): OperationsConfig {
  return {
    metrics: { provider: 'default', httpHost: '0.0.0.0', httpPort: 7000, exportJvmInfo: true },
    admin: {
      enabled: true,
      explicit: false,
      address: '127.0.0.1',
      port: 8080,
      commandUrl: '/commands',
      idleTimeoutMs: 30000,
      snapshotEnabled: true,
      rateLimiterIntervalMs: 300000,
    },
    auditEnabled: false,
    enforceQuota: false,
  };
}

/** How a problem is reported back to the zoo.cfg parser (which adds the line number). */
export type Report = (severity: 'error' | 'warning', message: string) => void;

type KeyHandler = (ops: OperationsConfig, value: string, report: Report, key: string) => void;

function bool(value: string, key: string, report: Report): boolean | undefined {
  const v = value.toLowerCase();
  if (v === 'true' || v === 'false') return v === 'true';
  report('error', `invalid option '${value}' for ${key}; use 'true' or 'false'`);
  return undefined;
}

function int(value: string, key: string, report: Report, min: number, max = 0x7fffffff): number | undefined {
  if (!/^[+-]?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    report('error', `${key} must be an integer between ${min} and ${max}, got '${value}'`);
    return undefined;
  }
  return Number(value);
}

function nonEmpty(value: string, key: string, report: Report): string | undefined {
  if (value === '') report('error', `${key} is empty`);
  return value === '' ? undefined : value;
}

/** A boolean key stored by `set` (invalid text is reported, nothing stored). */
const boolKey = (set: (ops: OperationsConfig, v: boolean) => void): KeyHandler => (ops, value, report, key) => {
  const v = bool(value, key, report);
  if (v !== undefined) set(ops, v);
};

/** An integer key in [min, max] stored by `set`. */
const intKey = (min: number, max: number, set: (ops: OperationsConfig, v: number) => void): KeyHandler => (ops, value, report, key) => {
  const v = int(value, key, report, min, max);
  if (v !== undefined) set(ops, v);
};

const HANDLERS: Readonly<Record<string, KeyHandler>> = {
  'metricsProvider.className': (ops, value, report) => {
    if (value === PROMETHEUS_PROVIDER) ops.metrics.provider = 'prometheus';
    else if (value === DEFAULT_PROVIDER) ops.metrics.provider = 'default';
    // ZooKeeper aborts the start when the class cannot be loaded.
    else report('error', `metrics provider class was not found: ${value} (supported: ${PROMETHEUS_PROVIDER}, ${DEFAULT_PROVIDER})`);
  },
  'metricsProvider.httpHost': (ops, value, report, key) => {
    const v = nonEmpty(value, key, report);
    if (v !== undefined) ops.metrics.httpHost = v;
  },
  'metricsProvider.httpPort': intKey(0, 65535, (ops, v) => (ops.metrics.httpPort = v)),
  'metricsProvider.exportJvmInfo': boolKey((ops, v) => (ops.metrics.exportJvmInfo = v)),
  // Worker-pool tuning of ZooKeeper's provider: we collect on the scraping request itself.
  'metricsProvider.numWorkerThreads': (_o, _v, report, key) => report('warning', `${key} has no effect in zabkeeper; ignored`),
  'metricsProvider.maxQueueSize': (_o, _v, report, key) => report('warning', `${key} has no effect in zabkeeper; ignored`),
  'metricsProvider.workerShutdownTimeoutMs': (_o, _v, report, key) => report('warning', `${key} has no effect in zabkeeper; ignored`),
  'metricsProvider.httpsPort': (_o, value, report, key) => report('error', `${key}=${value} is not supported (HTTPS); refusing to start rather than serve plain HTTP`),
  'admin.enableServer': (ops, value, report, key) => {
    const v = bool(value, key, report);
    if (v === undefined) return;
    ops.admin.enabled = v;
    ops.admin.explicit = v;
  },
  'admin.serverAddress': (ops, value, report, key) => {
    const v = nonEmpty(value, key, report);
    if (v !== undefined) ops.admin.address = v;
  },
  'admin.serverPort': intKey(0, 65535, (ops, v) => (ops.admin.port = v)),
  'admin.commandURL': (ops, value, report, key) => {
    if (!value.startsWith('/')) report('error', `${key} must start with '/', got '${value}'`);
    else ops.admin.commandUrl = value.length > 1 ? value.replace(/\/+$/, '') : value;
  },
  'admin.idleTimeout': intKey(1, 0x7fffffff, (ops, v) => (ops.admin.idleTimeoutMs = v)),
  'admin.httpVersion': (_o, value, report, key) => {
    if (value === '11' || value === '1.1') report('warning', `${key}=${value} is the default; ignored`);
    else report('error', `${key}=${value} is not supported (HTTP/1.1 only)`);
  },
  'admin.snapshot.enabled': boolKey((ops, v) => (ops.admin.snapshotEnabled = v)),
  // restore replaces the whole database from an uploaded snapshot: not offered over HTTP; use
  // `zabkeeper restore` on a stopped server's data dir. Enabling it must not pass silently.
  'admin.restore.enabled': (_o, value, report, key) => {
    if (value.toLowerCase() === 'false') return;
    report('warning', `${key}: the restore command is not served over HTTP (use \`zabkeeper restore\` offline); ignored`);
  },
  'admin.rateLimiterIntervalInMS': intKey(0, 0x7fffffff, (ops, v) => (ops.admin.rateLimiterIntervalMs = v)),
  'audit.enable': boolKey((ops, v) => (ops.auditEnabled = v)),
  'audit.impl.class': (_o, value, report, key) => {
    if (value === 'org.apache.zookeeper.audit.Slf4jAuditLogger') report('warning', `${key}: audit lines go to the server's pino log; ignored`);
    else report('error', `${key}=${value} is not supported (audit lines go to the server's pino log)`);
  },
  enforceQuota: boolKey((ops, v) => (ops.enforceQuota = v)),
};

/** Families we own: an unknown key in them is probably a typo of one of ours. */
const FAMILIES = ['metricsProvider.', 'admin.', 'audit.'];

/**
 * Applies one zoo.cfg entry if it is an operations key; returns false when the key is not ours.
 * Problems are reported through `report`; nothing is thrown.
 */
export function applyOperationsKey(ops: OperationsConfig, key: string, value: string, report: Report): boolean {
  const handler = HANDLERS[key];
  if (handler) {
    handler(ops, value, report, key);
    return true;
  }
  const family = FAMILIES.find((f) => key.startsWith(f));
  if (!family) return false;
  if (key.startsWith('metricsProvider.ssl.') || key.startsWith('admin.ssl')) {
    report('error', `${key} is not supported (HTTPS); refusing to start rather than serve plain HTTP`);
  } else {
    report('warning', `unknown key ${key}; ignored (known ${family}* keys: ${Object.keys(HANDLERS).filter((k) => k.startsWith(family)).join(', ')})`);
  }
  return true;
}

/** Cross-key checks once every line is read. */
export function finishOperations(ops: OperationsConfig, report: Report): void {
  const { metrics, admin } = ops;
  const wildcard = (h: string) => h === '0.0.0.0' || h === '::';
  const overlap = metrics.httpHost === admin.address || wildcard(metrics.httpHost) || wildcard(admin.address);
  if (metrics.provider === 'prometheus' && admin.enabled && metrics.httpPort !== 0 && metrics.httpPort === admin.port && overlap) {
    report('error', `metricsProvider.httpPort and admin.serverPort are both ${admin.port} on ${admin.address}`);
  }
}
