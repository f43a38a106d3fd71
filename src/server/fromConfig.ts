import path from 'node:path';
import { resolveClientAddress, type ZooCfg } from '../config';
import { defaultServerOptions, type ServerOptions } from './options';

/** Thrown when a zoo.cfg gives this server no client port (ZooKeeper would serve no clients). */
export class NoClientPortError extends Error {
  constructor(myid: number | undefined) {
    super(
      myid === undefined
        ? 'no client port: set clientPort'
        : `no client port: set clientPort, or give this server's line a client port (server.${myid}=host:quorumPort:electionPort;clientPort)`,
    );
    this.name = 'NoClientPortError';
  }
}

/**
 * Maps a parsed zoo.cfg (after applyMyId) onto the options of one server. Keys mean what they
 * mean to Apache ZooKeeper; the few places where we differ (TTL nodes on by default) are noted in
 * README. The client address follows ZooKeeper's rules (resolveClientAddress); `overrides.port`
 * and `overrides.host` (the CLI's --port/--host) win over it.
 */
export function optionsFromConfig(cfg: ZooCfg, overrides: Partial<ServerOptions> = {}): ServerOptions {
  const whitelist = cfg.fourLetterWordWhitelist;
  const resolved = resolveClientAddress(cfg).address;
  // Only a secureClientPort: no plaintext port at all (fail closed), unless --port asks for one.
  const secureOnly = !resolved && overrides.port === undefined && cfg.security.secureClientPort !== undefined;
  if (!resolved && overrides.port === undefined && !secureOnly) throw new NoClientPortError(cfg.myid);
  const client = { host: overrides.host ?? resolved?.host ?? '0.0.0.0', port: overrides.port ?? resolved?.port ?? 0 };
  const summary: Record<string, string | number> = {
    clientPort: secureOnly ? -1 : client.port,
    secureClientPort: cfg.security.secureClientPort ?? -1,
    dataDir: path.resolve(cfg.dataDir),
    dataLogDir: path.resolve(cfg.dataLogDir ?? cfg.dataDir),
    tickTime: cfg.tickTime,
    maxClientCnxns: cfg.maxClientCnxns,
    minSessionTimeout: cfg.minSessionTimeout,
    maxSessionTimeout: cfg.maxSessionTimeout,
    clientPortAddress: client.host,
    serverId: cfg.myid ?? 0,
  };
  return defaultServerOptions({
    host: client.host,
    port: client.port,
    dataDir: path.resolve(cfg.dataDir),
    dataLogDir: cfg.dataLogDir ? path.resolve(cfg.dataLogDir) : undefined,
    serverId: cfg.myid ?? 0,
    tickTimeMs: cfg.tickTime,
    minSessionTimeoutMs: cfg.minSessionTimeout,
    maxSessionTimeoutMs: cfg.maxSessionTimeout,
    maxClientCnxns: cfg.maxClientCnxns,
    maxFrameBytes: cfg.juteMaxBuffer,
    globalOutstandingLimit: cfg.globalOutstandingLimit,
    fourLetterWhitelist: whitelist.includes('*') ? '*' : new Set(whitelist),
    snapCount: cfg.snapCount,
    snapRetainCount: cfg.autopurgeSnapRetainCount,
    purgeIntervalHours: cfg.autopurgePurgeInterval,
    ttlEnabled: cfg.extendedTypesEnabled,
    superDigest: cfg.superDigest,
    reconfigEnabled: cfg.reconfigEnabled,
    configSummary: summary,
    operations: cfg.operations,
    listenPlaintext: !secureOnly,
    security: cfg.security,
    // server.N lines make this a member of a replicated ensemble; a single line is standalone
    // unless standaloneEnabled=false, which makes it a quorum of one (ZooKeeper's isDistributed()).
    ensemble: cfg.quorumMode
      ? { myid: cfg.myid ?? 0, servers: cfg.servers, initLimit: cfg.initLimit, syncLimit: cfg.syncLimit, configVersion: cfg.configVersion, quorumListenOnAllIPs: cfg.quorumListenOnAllIPs }
      : undefined,
    ...overrides,
  });
}
