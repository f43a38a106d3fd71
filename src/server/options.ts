import type { NotificationZxid } from './replies';
import type { Failpoints } from '../storage';
import type { EnsembleOptions } from './ensemble';
import type { HistoryLimits } from '../watch/history';
import type { OperationsConfig } from '../config/operations';
import { DEFAULT_FOUR_LETTER_WHITELIST } from '../fourlw/commands';
import type { SecurityConfig } from '../config/security';

/**
 * Everything the running server needs, already resolved (defaults applied, derived values
 * computed). Built from a zoo.cfg by `optionsFromConfig` or directly by tests/embedders.
 */
export interface ServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  dataDir: string;
  dataLogDir?: string;
  serverId: number;
  tickTimeMs: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  /** Per-IP connection cap; 0 = unlimited. */
  maxClientCnxns: number;
  /** jute.maxbuffer: largest frame accepted. */
  maxFrameBytes: number;
  /** Requests a connection may have outstanding before its socket is paused. */
  globalOutstandingLimit: number;
  /** Four-letter words allowed; '*' = all. */
  fourLetterWhitelist: ReadonlySet<string> | '*';
  snapCount: number;
  snapRetainCount: number;
  /** 0 = no automatic purge. */
  purgeIntervalHours: number;
  ttlEnabled: boolean;
  superDigest?: string;
  containerCheckIntervalMs: number;
  /** A connection must finish its handshake within this many ms. */
  handshakeTimeoutMs: number;
  notificationZxid: NotificationZxid;
  reconfigEnabled: boolean;
  /** false: no plaintext client port (zoo.cfg with only secureClientPort). Default true. */
  listenPlaintext?: boolean;
  /** TLS, SASL, x509 and enforce.auth settings (src/config/security.ts); undefined = none. */
  security?: SecurityConfig;
  /** Set when zoo.cfg lists server.N lines: this server is a member of a replicated ensemble. */
  ensemble?: EnsembleOptions;
  /** Test-only storage fault injection (never set from configuration). */
  storageFailpoints?: Failpoints;
  /** Limits of the event history behind resumable watches (defaults: DEFAULT_HISTORY_LIMITS). */
  watchHistory?: Partial<HistoryLimits>;
  /** Text for `conf` (key=value lines). */
  configSummary?: Record<string, string | number>;
  /**
   * Metrics provider, AdminServer, audit log and quota enforcement. Absent (embedded servers and
   * tests): no HTTP listeners, no audit, quotas counted but not enforced.
   */
  operations?: OperationsConfig;
  /** zoo.cfg as read at start (the AdminServer's initial_configuration); absent without a file. */
  configText?: string;
}

export function defaultServerOptions(overrides: Partial<ServerOptions> & { dataDir: string }): ServerOptions {
  const tickTimeMs = overrides.tickTimeMs ?? 2000;
  return {
    host: '127.0.0.1',
    port: 2181,
    serverId: 1,
    tickTimeMs,
    minSessionTimeoutMs: tickTimeMs * 2,
    maxSessionTimeoutMs: tickTimeMs * 20,
    maxClientCnxns: 60,
    maxFrameBytes: 0xfffff,
    globalOutstandingLimit: 1000,
    fourLetterWhitelist: new Set(DEFAULT_FOUR_LETTER_WHITELIST),
    snapCount: 100000,
    snapRetainCount: 3,
    purgeIntervalHours: 0,
    ttlEnabled: true,
    containerCheckIntervalMs: 60000,
    handshakeTimeoutMs: 10000,
    notificationZxid: 'trigger',
    reconfigEnabled: false,
    ...overrides,
  };
}
