import path from 'node:path';
import type { ZooCfg } from '../config';
import { defaultServerOptions, type ServerOptions } from './options';

/**
 * Maps a parsed zoo.cfg onto the options of one standalone server. Keys mean what they mean to
 * Apache ZooKeeper; the few places where we differ (TTL nodes on by default) are noted in README.
 */
export function optionsFromConfig(cfg: ZooCfg, overrides: Partial<ServerOptions> = {}): ServerOptions {
  const whitelist = cfg.fourLetterWordWhitelist;
  const summary: Record<string, string | number> = {
    clientPort: cfg.clientPort ?? 2181,
    dataDir: path.resolve(cfg.dataDir),
    dataLogDir: path.resolve(cfg.dataLogDir ?? cfg.dataDir),
    tickTime: cfg.tickTime,
    maxClientCnxns: cfg.maxClientCnxns,
    minSessionTimeout: cfg.minSessionTimeout,
    maxSessionTimeout: cfg.maxSessionTimeout,
    clientPortAddress: cfg.clientPortAddress ?? '0.0.0.0',
    serverId: cfg.myid ?? 0,
  };
  return defaultServerOptions({
    host: cfg.clientPortAddress ?? '0.0.0.0',
    port: cfg.clientPort ?? 2181,
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
    // server.N lines make this a member of a replicated ensemble (a single line is standalone).
    ensemble: cfg.servers.length > 1 ? { myid: cfg.myid ?? 0, servers: cfg.servers, initLimit: cfg.initLimit, syncLimit: cfg.syncLimit } : undefined,
    ...overrides,
  });
}
