import fs from 'node:fs';
import path from 'node:path';
import { JUTE_MAX_BUFFER_DEFAULT } from '../../protocol/jute/constants';
import { parseProperties, type PropertyEntry } from './properties';
import { applyOperationsKey, defaultOperationsConfig, finishOperations, type OperationsConfig } from './operations';
import { DEFAULT_FOUR_LETTER_WHITELIST } from '../fourlw/commands';
import { isSecurityKey, misspelledSecurityKey, parseJvmFlags, resolveSecurity, type RawSetting, type SecurityConfig } from './security';

/**
 * zoo.cfg as an Apache ZooKeeper install reads it (QuorumPeerConfig.parseProperties), turned into a
 * typed object plus a list of problems with line numbers. Parsing is pure; `loadConfig` adds the
 * file-system parts (reading the file, resolving dataDir, reading myid).
 */

export interface ConfigIssue {
  /** 1-based line in zoo.cfg (or in `file`); 0 for problems that belong to no line. */
  line: number;
  /** Set when the issue is in another file than zoo.cfg (the dynamicConfigFile). */
  file?: string;
  key?: string;
  severity: 'error' | 'warning';
  message: string;
}

export type PeerRole = 'participant' | 'observer';

export interface ServerSpec {
  id: number;
  host: string;
  quorumPort: number;
  electionPort: number;
  role: PeerRole;
  clientHost?: string;
  clientPort?: number;
}

export interface ZooCfg {
  tickTime: number;
  initLimit: number;
  syncLimit: number;
  /**
   * Absolute or as written (resolved when a baseDir is given). Missing dataDir is an error; only
   * with `requireDataDir: false` can it come back as '' (meaning "not set").
   */
  dataDir: string;
  dataLogDir?: string;
  clientPort?: number;
  clientPortAddress?: string;
  /** TLS, SASL, x509, enforce.auth and quorum auth (src/config/security.ts). */
  security: SecurityConfig;
  maxClientCnxns: number;
  minSessionTimeout: number;
  maxSessionTimeout: number;
  autopurgeSnapRetainCount: number;
  /** Hours; 0 = no automatic purge. */
  autopurgePurgeInterval: number;
  /** Raw entries of 4lw.commands.whitelist ('*' = all); see fourlw.parseWhitelist. */
  fourLetterWordWhitelist: string[];
  juteMaxBuffer: number;
  snapCount: number;
  globalOutstandingLimit: number;
  /** `user:base64(sha1(user:password))` from DigestAuthenticationProvider.superDigest. */
  superDigest?: string;
  /** TTL nodes (ZooKeeper's default is false; ours is true). */
  extendedTypesEnabled: boolean;
  reconfigEnabled: boolean;
  /** The quorum port listens on every address, not only this server's line's host (NAT, container VIPs). */
  quorumListenOnAllIPs: boolean;
  standaloneEnabled: boolean;
  servers: ServerSpec[];
  /** dynamicConfigFile: where the server lines live (ZooKeeper 3.5+ rewrites zoo.cfg to point there). */
  dynamicConfigFile?: string;
  /** The membership's version (hex, no 0x): the dynamic file name's suffix, as ZooKeeper takes it; '0' without one. */
  configVersion: string;
  peerType?: PeerRole;
  myid?: number;
  /** True when the server list makes this an ensemble member (ZooKeeper's isDistributed()). */
  quorumMode: boolean;
  /** metricsProvider.*, admin.*, audit.enable, enforceQuota (see operations.ts). */
  operations: OperationsConfig;
}

export interface ParseResult {
  config: ZooCfg;
  issues: ConfigIssue[];
  /** Line of the last occurrence of each key (for checks that run after myid is known). */
  lines?: ReadonlyMap<string, number>;
  /** Keys read from another file than zoo.cfg (server lines of the dynamicConfigFile) -> that file. */
  files?: ReadonlyMap<string, string>;
}

/** Where the client listener binds. `0.0.0.0` (or `::`) is ZooKeeper's wildcard. */
export interface ClientAddress {
  host: string;
  port: number;
}

/** Four-letter words allowed when the file does not say (the same default as without a file). */
export { DEFAULT_FOUR_LETTER_WHITELIST };

/** ZooKeeperServer.DEFAULT_TICK_TIME: what a zoo.cfg without tickTime (Kafka's) gets. */
const DEFAULT_TICK_TIME = 3000;

function defaults(): ZooCfg {
  return {
    tickTime: DEFAULT_TICK_TIME,
    initLimit: 10,
    syncLimit: 5,
    dataDir: '',
    maxClientCnxns: 60,
    // -1 = "derive from tickTime", resolved after every line is read (ZooKeeper does the same).
    minSessionTimeout: -1,
    maxSessionTimeout: -1,
    autopurgeSnapRetainCount: 3,
    autopurgePurgeInterval: 0,
    fourLetterWordWhitelist: [...DEFAULT_FOUR_LETTER_WHITELIST],
    juteMaxBuffer: JUTE_MAX_BUFFER_DEFAULT,
    snapCount: 100000,
    globalOutstandingLimit: 1000,
    extendedTypesEnabled: true,
    reconfigEnabled: false,
    quorumListenOnAllIPs: false,
    configVersion: '0',
    standaloneEnabled: true,
    servers: [],
    quorumMode: false,
    operations: defaultOperationsConfig(),
    security: resolveSecurity(new Map()).security,
  };
}

/** Per-parse state handed to the key handlers. */
interface Ctx {
  cfg: ZooCfg;
  issues: ConfigIssue[];
  entry: PropertyEntry;
  lines: Map<string, number>;
  serverLines: Map<number, number>;
  /** Security settings, resolved together once every line is read. */
  security: Map<string, RawSetting>;
  /** The file being read when it is not zoo.cfg (the dynamicConfigFile). */
  file?: string;
  files: Map<string, string>;
  /** zoo.cfg names a dynamicConfigFile: server lines belong there (ZooKeeper refuses them in zoo.cfg). */
  dynamic: boolean;
}

function issue(ctx: Ctx, severity: ConfigIssue['severity'], message: string): void {
  ctx.issues.push({ line: ctx.entry.line, key: ctx.entry.key, severity, message, ...(ctx.file !== undefined ? { file: ctx.file } : {}) });
}

/** Java's Integer.parseInt: optional sign, decimal digits, 32-bit range. */
function parseJavaInt(ctx: Ctx, value: string, opts: { min?: number; hex?: boolean } = {}): number | undefined {
  let n: number;
  if (opts.hex && /^0[xX][0-9a-fA-F]+$/.test(value)) n = parseInt(value.slice(2), 16);
  else if (/^[+-]?\d+$/.test(value)) n = Number(value);
  else {
    issue(ctx, 'error', `${ctx.entry.key} must be an integer, got '${value}'`);
    return undefined;
  }
  if (n > 0x7fffffff || n < -0x80000000) {
    issue(ctx, 'error', `${ctx.entry.key} is out of range: ${value}`);
    return undefined;
  }
  if (opts.min !== undefined && n < opts.min) {
    issue(ctx, 'error', `${ctx.entry.key} must be at least ${opts.min}, got ${n}`);
    return undefined;
  }
  return n;
}

function parseBool(ctx: Ctx, value: string): boolean | undefined {
  const v = value.toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  issue(ctx, 'error', `invalid option '${value}' for ${ctx.entry.key}; use 'true' or 'false'`);
  return undefined;
}

function parsePort(ctx: Ctx, value: string, what: string, allowZero: boolean): number | undefined {
  if (!/^\d+$/.test(value)) {
    issue(ctx, 'error', `${what} must be a port number, got '${value}'`);
    return undefined;
  }
  const n = Number(value);
  if (n > 65535 || (!allowZero && n === 0)) {
    issue(ctx, 'error', `${what} ${n} is out of range (${allowZero ? 0 : 1}-65535)`);
    return undefined;
  }
  return n;
}

type Handler = (ctx: Ctx, value: string) => void;

function intKey(field: keyof ZooCfg, opts: { min?: number; hex?: boolean } = {}): Handler {
  return (ctx, value) => {
    const n = parseJavaInt(ctx, value, opts);
    if (n !== undefined) (ctx.cfg as unknown as Record<string, unknown>)[field] = n;
  };
}

function boolKey(field: keyof ZooCfg): Handler {
  return (ctx, value) => {
    const b = parseBool(ctx, value);
    if (b !== undefined) (ctx.cfg as unknown as Record<string, unknown>)[field] = b;
  };
}

function stringKey(field: keyof ZooCfg): Handler {
  return (ctx, value) => {
    if (value === '') issue(ctx, 'error', `${ctx.entry.key} is empty`);
    else (ctx.cfg as unknown as Record<string, unknown>)[field] = value;
  };
}

/** Keys we understand. */
const HANDLERS: Readonly<Record<string, Handler>> = {
  tickTime: intKey('tickTime', { min: 1 }),
  initLimit: intKey('initLimit', { min: 1 }),
  syncLimit: intKey('syncLimit', { min: 1 }),
  dataDir: stringKey('dataDir'),
  dataLogDir: stringKey('dataLogDir'),
  clientPort: (ctx, v) => {
    const p = parsePort(ctx, v, 'clientPort', true);
    // QuorumPeerConfig: clientPort=0 means "not set" (the server line may still give one).
    if (p !== undefined) ctx.cfg.clientPort = p === 0 ? undefined : p;
  },
  clientPortAddress: stringKey('clientPortAddress'),
  maxClientCnxns: intKey('maxClientCnxns', { min: 0 }),
  minSessionTimeout: intKey('minSessionTimeout', { min: -1 }),
  maxSessionTimeout: intKey('maxSessionTimeout', { min: -1 }),
  'autopurge.snapRetainCount': (ctx, v) => {
    const n = parseJavaInt(ctx, v);
    if (n === undefined) return;
    if (n < 3) {
      // DatadirCleanupManager: fewer than 3 is raised to 3 with a warning.
      issue(ctx, 'warning', `autopurge.snapRetainCount ${n} is below the minimum; using 3`);
      ctx.cfg.autopurgeSnapRetainCount = 3;
    } else ctx.cfg.autopurgeSnapRetainCount = n;
  },
  'autopurge.purgeInterval': (ctx, v) => {
    const n = parseJavaInt(ctx, v);
    if (n !== undefined) ctx.cfg.autopurgePurgeInterval = Math.max(0, n);
  },
  '4lw.commands.whitelist': (ctx, v) => {
    ctx.cfg.fourLetterWordWhitelist = v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  },
  'jute.maxbuffer': intKey('juteMaxBuffer', { min: 1, hex: true }),
  snapCount: intKey('snapCount', { min: 2 }),
  globalOutstandingLimit: intKey('globalOutstandingLimit', { min: 1 }),
  'DigestAuthenticationProvider.superDigest': (ctx, v) => {
    if (!/^[^:]+:[A-Za-z0-9+/]+=*$/.test(v)) issue(ctx, 'error', `superDigest must look like user:base64(sha1(user:password)), got '${v}'`);
    else ctx.cfg.superDigest = v;
  },
  extendedTypesEnabled: boolKey('extendedTypesEnabled'),
  reconfigEnabled: boolKey('reconfigEnabled'),
  quorumListenOnAllIPs: boolKey('quorumListenOnAllIPs'),
  standaloneEnabled: boolKey('standaloneEnabled'),
  // Read by loadConfig (its server lines join zoo.cfg's); relative paths resolve like dataDir.
  dynamicConfigFile: stringKey('dynamicConfigFile'),
  peerType: (ctx, v) => {
    const t = v.toLowerCase();
    if (t === 'observer' || t === 'participant') ctx.cfg.peerType = t;
    else issue(ctx, 'error', `unrecognised peerType '${v}' (participant or observer)`);
  },
};

/** Keys ZooKeeper knows that we accept and ignore (warning "ignored"). Exact names. */
const IGNORED_KEYS = new Set([
  'electionAlg', 'syncEnabled', 'localSessionsEnabled',
  'localSessionsUpgradingEnabled', 'maxCnxns', 'clientPortListenBacklog',
  'leaderServes', 'cnxTimeout', 'electionPortBindRetry', 'preAllocSize', 'forceSync',
  'flushDelay', 'maxWriteQueuePollTime', 'maxBatchSize', 'fsync.warningthresholdms', 'observerMasterPort',
  'connectToLearnerMasterLimit', 'snapSizeLimitInKb', 'txnLogSizeLimitInKb',
  'commitLogCount', 'digest.enabled',
  'requestThrottleLimit', 'requestThrottleStallTime', 'requestThrottleDropStale', 'connectionMaxTokens',
  'connectionTokenFillTime', 'connectionTokenFillCount', 'connectionFreezeTime', 'connectionDropIncrease',
  'connectionDropDecrease', 'connectionDecreaseRatio', 'readonlymode.enabled', 'jvm.pause.info-threshold.ms',
]);

/** Prefixes of ZooKeeper key families we ignore. */
const IGNORED_PREFIXES = ['multiAddress.', 'zookeeper.'];

/**
 * Hierarchical quorums change which sets of servers form a quorum; counting a plain majority
 * instead would give the operator a different ensemble from the one configured, so they refuse.
 */
const isHierarchyKey = (key: string) => key.startsWith('group.') || key.startsWith('weight.');

function isIgnored(key: string): boolean {
  return IGNORED_KEYS.has(key) || IGNORED_PREFIXES.some((p) => key.startsWith(p));
}

/** host or [ipv6] followed by ':'-separated fields. */
function splitHostFields(s: string): { host: string; fields: string[] } | undefined {
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return undefined;
    const rest = s.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return undefined;
    return { host: s.slice(1, end), fields: rest === '' ? [] : rest.slice(1).split(':') };
  }
  const [host, ...fields] = s.split(':');
  return { host: host ?? '', fields };
}

const SERVER_FORM = 'expected host:quorumPort:electionPort[:participant|observer][;[clientHost:]clientPort]';

/** `server.N=host:2888:3888[:observer][;[clientHost:]clientPort]` (QuorumPeer.QuorumServer). */
function parseServerLine(ctx: Ctx, idText: string, value: string): void {
  if (!/^\d+$/.test(idText)) {
    issue(ctx, 'error', `server id '${idText}' is not a number`);
    return;
  }
  const id = Number(idText);
  // Session ids carry the server id in their top byte, so ids above 255 would collide.
  if (id > 255) {
    issue(ctx, 'error', `server id ${id} is out of range (0-255)`);
    return;
  }
  if (value.includes('|')) {
    issue(ctx, 'error', `server.${id}: multiple addresses ('|') are not supported`);
    return;
  }
  const [addr = '', client, ...extra] = value.split(';');
  const parts = splitHostFields(addr.trim());
  if (extra.length > 0 || !parts || parts.host === '' || parts.fields.length < 2 || parts.fields.length > 3) {
    issue(ctx, 'error', `server.${id}=${value}: ${SERVER_FORM}`);
    return;
  }
  const quorumPort = parsePort(ctx, parts.fields[0]!, `server.${id} quorum port`, false);
  const electionPort = parsePort(ctx, parts.fields[1]!, `server.${id} election port`, false);
  const roleText = (parts.fields[2] ?? 'participant').toLowerCase();
  if (roleText !== 'participant' && roleText !== 'observer') {
    issue(ctx, 'error', `server.${id}: unrecognised peer type '${parts.fields[2]}'`);
    return;
  }
  if (quorumPort === undefined || electionPort === undefined) return;
  const spec: ServerSpec = { id, host: parts.host, quorumPort, electionPort, role: roleText };
  if (client !== undefined && !parseClientPart(ctx, id, client.trim(), spec)) return;
  const previous = ctx.serverLines.get(id);
  if (previous !== undefined) {
    issue(ctx, 'error', `duplicate server id ${id} (first defined on line ${previous})`);
    return;
  }
  ctx.serverLines.set(id, ctx.entry.line);
  ctx.cfg.servers.push(spec);
}

function parseClientPart(ctx: Ctx, id: number, client: string, spec: ServerSpec): boolean {
  const parts = /^\d+$/.test(client) ? { host: undefined, fields: [client] } : splitHostFields(client);
  if (!parts || parts.fields.length !== 1 || parts.host === '') {
    issue(ctx, 'error', `server.${id}: bad client address '${client}'; ${SERVER_FORM}`);
    return false;
  }
  const port = parsePort(ctx, parts.fields[0]!, `server.${id} client port`, false);
  if (port === undefined) return false;
  spec.clientPort = port;
  if (parts.host !== undefined) spec.clientHost = parts.host;
  return true;
}

function applyEntry(ctx: Ctx): void {
  const { key, value: raw } = ctx.entry;
  // QuorumPeerConfig trims every value.
  const value = raw.trim();
  const firstLine = ctx.lines.get(key);
  if (firstLine !== undefined && !key.startsWith('server.')) {
    issue(ctx, 'warning', `${key} is set again (first on line ${firstLine}); the later value wins`);
  }
  ctx.lines.set(key, ctx.entry.line);
  if (ctx.dynamic && (key.startsWith('server.') || isHierarchyKey(key))) {
    return issue(ctx, 'error', `${key} must be in the dynamic config file when dynamicConfigFile is set (as ZooKeeper requires)`);
  }
  if (key.startsWith('server.')) return parseServerLine(ctx, key.slice('server.'.length), value);
  if (isHierarchyKey(key)) return issue(ctx, 'error', HIERARCHY_REFUSED);
  const handler = HANDLERS[key];
  if (handler) return handler(ctx, value);
  if (isSecurityKey(key)) return void ctx.security.set(key, { value, line: ctx.entry.line, origin: 'zoo.cfg' });
  const meant = misspelledSecurityKey(key);
  if (meant) return issue(ctx, 'error', `${key}: ZooKeeper reads this as the system property zookeeper.${key}, i.e. ignores it; write ${meant}`);
  if (applyOperationsKey(ctx.cfg.operations, key, value, (severity, message) => issue(ctx, severity, message))) return;
  if (isIgnored(key)) return issue(ctx, 'warning', `${key} is not supported by zabkeeper; ignored`);
  issue(ctx, 'warning', `unknown key ${key}; ignored (ZooKeeper would turn it into the system property zookeeper.${key})`);
}

const HIERARCHY_REFUSED = 'hierarchical quorums (group.N/weight.N) are not supported: zabkeeper counts a majority of the server.N lines; remove the group/weight lines';

/**
 * The dynamicConfigFile (QuorumPeerConfig.parse): only server.N lines; its version comes from the
 * file name, never from a line. Problems name that file and its line numbers.
 */
function applyDynamicConfig(ctx: Ctx, text: string, file: string): void {
  const dyn: Ctx = { ...ctx, file, dynamic: false };
  ctx.cfg.configVersion = versionFromFileName(file);
  for (const entry of parseProperties(text)) {
    dyn.entry = entry;
    const key = entry.key;
    if (key.startsWith('server.')) {
      ctx.files.set(key, file);
      ctx.lines.set(key, entry.line);
      parseServerLine(dyn, key.slice('server.'.length), entry.value.trim());
    } else if (isHierarchyKey(key)) issue(dyn, 'error', HIERARCHY_REFUSED);
    else if (key === 'version') issue(dyn, 'error', 'a dynamic config file must not hold version (it is the hex suffix of the file name)');
    else issue(dyn, 'error', `unrecognised parameter ${key}: a dynamic config file holds only server.N lines`);
  }
}

/**
 * QuorumPeerConfig.getVersionFromFilename: the hex after the last dot (`zoo.cfg.dynamic.100000000`
 * is version 100000000, what ZooKeeper shows in /zookeeper/config); a name without one is version 0.
 */
export function versionFromFileName(file: string): string {
  const dot = file.lastIndexOf('.');
  const suffix = file.slice(dot + 1);
  if (dot < 0 || !/^[0-9a-f]{1,16}$/i.test(suffix)) return '0';
  const version = BigInt(`0x${suffix}`);
  return version < 2n ** 63n ? version.toString(16) : '0';
}

/** Cross-key checks and derived values, after every line has been read. */
function finish(cfg: ZooCfg, issues: ConfigIssue[], lines: Map<string, number>, opts: ParseOptions, files: ReadonlyMap<string, string> = new Map()): void {
  const lineOf = (k: string): number => lines.get(k) ?? 0;
  const at = (k: string) => ({ line: lineOf(k), ...(files.has(k) ? { file: files.get(k)! } : {}) });
  if (cfg.minSessionTimeout === -1) cfg.minSessionTimeout = cfg.tickTime * 2;
  if (cfg.maxSessionTimeout === -1) cfg.maxSessionTimeout = cfg.tickTime * 20;
  if (cfg.minSessionTimeout > cfg.maxSessionTimeout) {
    const line = Math.max(lineOf('minSessionTimeout'), lineOf('maxSessionTimeout'));
    issues.push({
      line,
      key: lineOf('maxSessionTimeout') >= lineOf('minSessionTimeout') ? 'maxSessionTimeout' : 'minSessionTimeout',
      severity: 'error',
      message: `minSessionTimeout (${cfg.minSessionTimeout}) must not be larger than maxSessionTimeout (${cfg.maxSessionTimeout})`,
    });
  }
  if (cfg.dataDir === '' && opts.requireDataDir !== false) {
    issues.push({ line: 0, key: 'dataDir', severity: 'error', message: 'dataDir is not set' });
  }
  if (cfg.dataLogDir !== undefined && cfg.dataDir === '' && opts.requireDataDir !== false) {
    issues.push({ line: lineOf('dataLogDir'), key: 'dataLogDir', severity: 'error', message: 'dataLogDir is set but dataDir is not' });
  }
  if (cfg.clientPortAddress !== undefined && cfg.clientPort === undefined) {
    issues.push({ line: lineOf('clientPortAddress'), key: 'clientPortAddress', severity: 'error', message: 'clientPortAddress is set but clientPort is not set' });
  }
  finishOperations(cfg.operations, (severity, message) => issues.push({ line: 0, severity, message }));
  cfg.servers.sort((a, b) => a.id - b.id);
  // ZooKeeper runs a lone participant standalone unless standaloneEnabled=false.
  cfg.quorumMode = cfg.servers.length > 1 || (cfg.servers.length === 1 && !cfg.standaloneEnabled);
  if (cfg.servers.length === 1 && cfg.standaloneEnabled) {
    issues.push({ ...at(`server.${cfg.servers[0]!.id}`), severity: 'warning', message: 'only one server specified; running standalone' });
  }
  if (cfg.servers.length === 0 && !cfg.standaloneEnabled) {
    // QuorumPeerConfig: standaloneEnabled=false asks for an ensemble, so it needs participants.
    issues.push({ line: lineOf('standaloneEnabled'), key: 'standaloneEnabled', severity: 'error', message: 'standaloneEnabled=false but no server.N lines: an ensemble member needs the server list' });
  }
  if (cfg.reconfigEnabled) {
    issues.push({ line: lineOf('reconfigEnabled'), key: 'reconfigEnabled', severity: 'warning', message: 'reconfigEnabled=true: dynamic reconfiguration is not supported; reconfig requests are answered ReconfigDisabled and the membership stays as configured' });
  }
  if (cfg.quorumMode && cfg.servers.every((s) => s.role === 'observer')) {
    issues.push({ line: 0, severity: 'error', message: 'the server list has no participants' });
  }
  if (cfg.clientPort === undefined && !cfg.servers.some((s) => s.clientPort !== undefined) && cfg.security.secureClientPort === undefined) {
    issues.push({ line: 0, key: 'clientPort', severity: 'warning', message: 'clientPort is not set' });
  }
}

export interface ParseOptions {
  /** Relative dataDir/dataLogDir are resolved against this (ZooKeeper uses the process cwd). */
  baseDir?: string;
  /** `-Dzookeeper.<key>` flags (see security.parseJvmFlags); a zoo.cfg line for the same key wins. */
  jvmFlags?: ReadonlyMap<string, RawSetting>;
  /** false: a missing dataDir is not an error (development mode picks its own). */
  requireDataDir?: boolean;
  /** The text of zoo.cfg's dynamicConfigFile (loadConfig reads it); `file` names it in issues. */
  dynamicConfig?: { text: string; file: string };
}

/**
 * Keys ZooKeeper reads only as Java system properties (zoo.cfg turns an unknown key into
 * `zookeeper.<key>`), so `-Dzookeeper.<key>` in SERVER_JVMFLAGS sets them as well as a zoo.cfg line
 * does. jute.maxbuffer is read without the prefix (`-Djute.maxbuffer`, the documented way to raise
 * it); zoo.cfg's own line is a zabkeeper convenience.
 */
const SYSTEM_PROPERTY_KEYS = new Set([
  'snapCount', 'globalOutstandingLimit', '4lw.commands.whitelist', 'extendedTypesEnabled', 'DigestAuthenticationProvider.superDigest',
  'enforceQuota', 'audit.enable', 'audit.impl.class',
]);

function isSystemPropertyKey(key: string, property: string): boolean {
  if (key === 'jute.maxbuffer') return property === 'jute.maxbuffer';
  if (!property.startsWith('zookeeper.')) return false;
  return SYSTEM_PROPERTY_KEYS.has(key) || key.startsWith('admin.');
}

/**
 * JVM flags join zoo.cfg (a zoo.cfg line wins): security keys, and the keys ZooKeeper reads as
 * system properties, which go through the same handlers as their zoo.cfg lines (problems name the
 * flag). Other -Dzookeeper.* flags are not read, and say so.
 */
function applyJvmFlags(ctx: Ctx, flags: ReadonlyMap<string, RawSetting> | undefined): void {
  for (const [key, setting] of flags ?? []) {
    const property = setting.property ?? key;
    if (isSystemPropertyKey(key, property)) {
      if (ctx.lines.has(key)) continue;
      ctx.entry = { key: `-D${property} (${setting.origin})`, value: setting.value, line: 0 };
      const value = setting.value.trim();
      const handler = HANDLERS[key];
      if (handler) handler(ctx, value);
      else applyOperationsKey(ctx.cfg.operations, key, value, (severity, message) => issue(ctx, severity, `-D${property} (${setting.origin}): ${message}`));
    } else if (isSecurityKey(key)) {
      if (!ctx.security.has(key)) ctx.security.set(key, setting);
    } else if (property.startsWith('zookeeper.')) {
      ctx.issues.push({ line: 0, key, severity: 'warning', message: `-D${property} in ${setting.origin} is not read by zabkeeper; put ${key} in zoo.cfg if it matters` });
    }
  }
}

export function parseZooCfg(text: string, opts: ParseOptions = {}): ParseResult {
  const config = defaults();
  const issues: ConfigIssue[] = [];
  const lines = new Map<string, number>();
  const files = new Map<string, string>();
  const entries = parseProperties(text);
  const ctx: Ctx = {
    cfg: config, issues, entry: { key: '', value: '', line: 0 }, lines, files, serverLines: new Map(), security: new Map(),
    dynamic: entries.some((e) => e.key === 'dynamicConfigFile'),
  };
  for (const entry of entries) applyEntry({ ...ctx, entry });
  if (opts.dynamicConfig) applyDynamicConfig(ctx, opts.dynamicConfig.text, opts.dynamicConfig.file);
  applyJvmFlags(ctx, opts.jvmFlags);
  const resolved = resolveSecurity(ctx.security);
  config.security = resolved.security;
  issues.push(...resolved.issues);
  finish(config, issues, lines, opts, files);
  if (opts.baseDir !== undefined) {
    if (config.dataDir !== '') config.dataDir = path.resolve(opts.baseDir, config.dataDir);
    if (config.dataLogDir !== undefined) config.dataLogDir = path.resolve(opts.baseDir, config.dataLogDir);
    if (config.dynamicConfigFile !== undefined) config.dynamicConfigFile = path.resolve(opts.baseDir, config.dynamicConfigFile);
  }
  issues.sort(byLocation);
  return { config, issues, lines, files };
}

/** zoo.cfg's issues in line order, then the dynamic file's. */
function byLocation(a: ConfigIssue, b: ConfigIssue): number {
  return (a.file === undefined ? 0 : 1) - (b.file === undefined ? 0 : 1) || a.line - b.line;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0']);
const WILDCARD = '0.0.0.0';

/**
 * ZooKeeper resolves host names before comparing (InetSocketAddress.equals); we stay pure and
 * compare literally, treating `localhost` as 127.0.0.1, which covers the forms configs use.
 */
function sameAddress(a: ClientAddress, b: ClientAddress): boolean {
  const norm = (h: string) => (h.toLowerCase() === 'localhost' ? '127.0.0.1' : h.toLowerCase());
  return a.port === b.port && norm(a.host) === norm(b.host);
}

const formatAddress = (a: ClientAddress) => `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;

/**
 * The client address this server binds (QuorumPeerConfig.setupClientPort). With a myid, this
 * server's own `server.N=...;[host:]port` line wins (the 3.5+ form: the official image writes no
 * clientPort key at all); `;port` alone means every interface. Otherwise `clientPort` and
 * `clientPortAddress`. When both are given they must agree: a wildcard clientPortAddress only
 * compares ports, a specific one the whole address. No address at all: nothing to bind.
 */
export function resolveClientAddress(cfg: ZooCfg): { address?: ClientAddress; conflict?: { line: ClientAddress; keys: ClientAddress } } {
  const keys = cfg.clientPort !== undefined ? { host: cfg.clientPortAddress ?? WILDCARD, port: cfg.clientPort } : undefined;
  const me = cfg.myid === undefined ? undefined : cfg.servers.find((s) => s.id === cfg.myid);
  const line = me?.clientPort !== undefined ? { host: me.clientHost ?? WILDCARD, port: me.clientPort } : undefined;
  if (!line) return keys ? { address: keys } : {};
  if (keys && (WILDCARDS.has(keys.host) ? keys.port !== line.port : !sameAddress(keys, line))) return { address: line, conflict: { line, keys } };
  return { address: line };
}

/** Reports a clientPort/clientPortAddress that disagrees with this server's own line. */
function checkClientAddress(result: ParseResult): void {
  const { conflict } = resolveClientAddress(result.config);
  if (!conflict) return;
  const id = result.config.myid!;
  const keys = ['clientPort', 'clientPortAddress']
    .filter((k) => result.lines?.has(k) && (k !== 'clientPortAddress' || result.config.clientPortAddress !== undefined))
    .map((k) => `${k} (line ${result.lines!.get(k)})`);
  const file = result.files?.get(`server.${id}`);
  result.issues.push({
    line: result.lines?.get(`server.${id}`) ?? 0,
    ...(file !== undefined ? { file } : {}),
    key: `server.${id}`,
    severity: 'error',
    message: `server.${id} gives client address ${formatAddress(conflict.line)} but ${keys.join(' and ')} ${keys.length > 1 ? 'give' : 'gives'} ${formatAddress(conflict.keys)}; remove clientPort or make them agree`,
  });
}

/**
 * Applies dataDir/myid (QuorumPeerConfig.setupMyId), then checks the client address that depends
 * on it (setupClientPort): pure given the file's text (undefined = absent).
 */
export function applyMyId(result: ParseResult, myidText: string | undefined, myidPath: string, dataDirLine: number): void {
  setupMyId(result, myidText, myidPath, dataDirLine);
  checkClientAddress(result);
  result.issues.sort(byLocation);
}

function setupMyId(result: ParseResult, myidText: string | undefined, myidPath: string, dataDirLine: number): void {
  const { config, issues } = result;
  const at = (severity: ConfigIssue['severity'], message: string): void => {
    issues.push({ line: dataDirLine, key: 'dataDir', severity, message });
  };
  if (myidText === undefined) {
    if (config.quorumMode) at('error', `${myidPath} file is missing`);
    return;
  }
  const first = (myidText.split(/\r?\n/)[0] ?? '').trim();
  if (!/^\d+$/.test(first) || Number(first) > 255) {
    at('error', `${myidPath}: server id '${first}' is not a number between 0 and 255`);
    return;
  }
  config.myid = Number(first);
  if (!config.quorumMode) return;
  const me = config.servers.find((s) => s.id === config.myid);
  if (!me) {
    at('error', `myid ${config.myid} (from ${myidPath}) is not in the server list`);
    return;
  }
  if (config.peerType !== undefined && config.peerType !== me.role) {
    at('warning', `peerType ${config.peerType} does not match server.${me.id}'s role ${me.role}; using the server list`);
  }
}

/**
 * The -D flags a ZooKeeper started by zkServer.sh would see: SERVER_JVMFLAGS, then JVMFLAGS
 * (later flags win, as on a java command line).
 */
export function serverJvmFlags(env: NodeJS.ProcessEnv): Map<string, RawSetting> {
  return new Map([...parseJvmFlags(env.SERVER_JVMFLAGS ?? '', 'SERVER_JVMFLAGS'), ...parseJvmFlags(env.JVMFLAGS ?? '', 'JVMFLAGS')]);
}

/**
 * The dynamicConfigFile zoo.cfg names (the last such line), read as ZooKeeper reads it: relative
 * to the process cwd. An unreadable one is a configuration error, never "no server lines".
 */
function readDynamicConfig(text: string): { dynamicConfig?: { text: string; file: string }; issue?: ConfigIssue } {
  const entry = parseProperties(text).filter((e) => e.key === 'dynamicConfigFile').pop();
  if (!entry || entry.value.trim() === '') return {};
  const file = path.resolve(process.cwd(), entry.value.trim());
  try {
    return { dynamicConfig: { text: fs.readFileSync(file, 'utf8'), file } };
  } catch (err) {
    return { issue: { line: entry.line, key: 'dynamicConfigFile', severity: 'error', message: `cannot read dynamicConfigFile ${file}: ${(err as Error).message}` } };
  }
}

/** Reads zoo.cfg (and its dynamicConfigFile), resolves relative dirs against the process cwd, reads dataDir/myid if present. */
export function loadConfig(file: string, opts: { requireDataDir?: boolean; env?: NodeJS.ProcessEnv } = {}): ParseResult {
  const text = fs.readFileSync(file, 'utf8');
  const dynamic = readDynamicConfig(text);
  const result = parseZooCfg(text, { baseDir: process.cwd(), requireDataDir: opts.requireDataDir, jvmFlags: serverJvmFlags(opts.env ?? process.env), ...(dynamic.dynamicConfig ? { dynamicConfig: dynamic.dynamicConfig } : {}) });
  if (dynamic.issue) result.issues.push(dynamic.issue);
  const dataDir = result.config.dataDir;
  if (dataDir !== '') {
    const myidPath = path.join(dataDir, 'myid');
    let myidText: string | undefined;
    try {
      myidText = fs.readFileSync(myidPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const dataDirLine = parseProperties(text).find((e) => e.key === 'dataDir')?.line ?? 0;
    applyMyId(result, myidText, myidPath, dataDirLine);
    result.issues.sort(byLocation);
  }
  return result;
}

export class ConfigError extends Error {
  readonly issues: ConfigIssue[];

  constructor(file: string, issues: ConfigIssue[]) {
    super(`invalid configuration ${file}:\n` + issues.map((i) => `${issueLocation(file, i)} ${i.message}`).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Throws ConfigError listing every error (warnings are left for the caller to log). */
export function assertNoErrors(result: ParseResult, file: string): ZooCfg {
  const errors = result.issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) throw new ConfigError(file, errors);
  return result.config;
}

/** `zoo.cfg:LINE:` (or the dynamic file's name), the prefix every printed issue carries. */
export function issueLocation(file: string, i: ConfigIssue): string {
  return `${path.basename(i.file ?? file)}:${i.line > 0 ? `${i.line}:` : ''}`;
}

/** `file:LINE: message` for logging warnings. */
export function formatIssue(file: string, i: ConfigIssue): string {
  return `${issueLocation(file, i)} ${i.severity === 'warning' ? 'warning: ' : ''}${i.message}`;
}
