import { Dbl, javaHex, monitorEntries, round4, type ConnSnapshot, type ServerSnapshot } from '../fourlw';
import type { ServerSpec } from '../config';
import type { JsonObject, JsonValue } from './json';
import { counterOf, epochOf } from '../util/zxid';

/**
 * ZooKeeper's AdminServer commands (org.apache.zookeeper.server.admin.Commands, 3.8): names,
 * aliases, whether they need a serving server, and the JSON fields each returns, built from the
 * same ServerSnapshot the four-letter words print. Field names and JSON types match Apache's
 * (test/ops/admin.test.ts compares them against a running Apache ZooKeeper 3.8).
 */

/** Everything a command may read or do; the HTTP shell implements it over a live ZkServer. */
export interface AdminContext {
  snapshot(): ServerSnapshot;
  myId: number;
  ensemble?: { servers: readonly ServerSpec[]; leaderId: number | undefined; epoch: number; lastZxid: bigint; phase: string; isLeader: boolean };
  learners?: { sid: number; observer: boolean; stage: string }[];
  lastSnapshot(): { zxid: bigint; createdAtMs: number } | undefined;
  initialConfiguration: string;
  systemProperties(): Record<string, string>;
  resetConnectionStats(): void;
  resetServerStats(): void;
  setTraceMask(mask: bigint): void;
}

/** A command's answer before `command`/`error` are added (CommandResponse.data, in insertion order). */
export type CommandData = JsonObject;

interface CommandDef {
  names: readonly string[];
  /** ZooKeeper answers "not currently serving requests" instead while not serving. */
  serverRequired: boolean;
  run(ctx: AdminContext, params: URLSearchParams): CommandData;
}

export const NOT_SERVING_ERROR = 'This ZooKeeper instance is not currently serving requests';

const hexZxid = (z: bigint): string => `0x${javaHex(z)}`;

/** ServerCnxn.getConnectionInfo(brief): Jackson writes the socket address as "host:port", longs as numbers. */
function connectionInfo(c: ConnSnapshot, brief: boolean): JsonObject {
  const host = c.remoteAddress.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
  const info: JsonObject = {
    remote_socket_address: `${host.includes(':') ? `[${host}]` : host}:${c.remotePort}`,
    interest_ops: c.interestOps,
    outstanding_requests: c.queued,
    packets_received: c.packetsReceived,
    packets_sent: c.packetsSent,
  };
  if (brief) return info;
  return {
    ...info,
    session_id: c.sessionId,
    last_operation: c.lastOp,
    established: c.establishedMs,
    session_timeout: c.timeoutMs,
    last_cxid: c.lastCxid,
    last_zxid: c.lastZxid,
    last_response_time: c.lastResponseMs,
    last_latency: c.lastLatency,
    min_latency: c.minLatency,
    avg_latency: Math.trunc(c.avgLatency),
    max_latency: c.maxLatency,
  };
}

const bufferStats = (r: { last: number; min: number; max: number }): JsonObject => ({ last_buffer_size: r.last, min_buffer_size: r.min, max_buffer_size: r.max });

/** SrvrCommand / StatCommand: ZooKeeperServer's ServerStats bean and the node count. */
function serverStats(s: ServerSnapshot): CommandData {
  const data: CommandData = {
    version: s.version,
    read_only: s.readOnly,
    server_stats: {
      packets_sent: s.packetsSent,
      packets_received: s.packetsReceived,
      fsync_threshold_exceed_count: 0,
      client_response_stats: bufferStats(s.clientResponseSize),
      provider_null: false,
      data_dir_size: s.conf.dataDirSize,
      log_dir_size: s.conf.dataLogSize,
      server_state: s.mode,
      last_processed_zxid: s.zxid,
      outstanding_requests: s.outstanding,
      avg_latency: new Dbl(round4(s.latency.avg)),
      max_latency: s.latency.max,
      min_latency: s.latency.min,
      num_alive_client_connections: s.connections.length,
      uptime: s.uptimeMs,
      auth_failed_count: s.authFailedCount,
      non_mtlsremote_conn_count: 0,
      non_mtlslocal_conn_count: 0,
    },
    client_response: bufferStats(s.clientResponseSize),
  };
  if (s.leader) {
    const l = s.leader;
    data.proposal_stats = { last_buffer_size: l.lastProposalSize, min_buffer_size: l.minProposalSize, max_buffer_size: l.maxProposalSize };
  }
  data.node_count = s.nodeCount;
  return data;
}

/** MonitorCommand: mntr's entries (gauges, counters, avg_/min_/max_/cnt_/sum_ of each summary). */
function monitor(ctx: AdminContext): CommandData {
  const data: CommandData = {};
  for (const [k, v] of monitorEntries(ctx.snapshot())) data[k] = v as JsonValue;
  return data;
}

/** Commands$EnvCommand: ZooKeeper's Environment list with the JVM facts mapped to Node's. */
function environment(s: ServerSnapshot): CommandData {
  const env = new Map(s.env);
  const get = (k: string) => env.get(k) ?? '';
  return {
    'zookeeper.version': get('zookeeper.version'),
    'host.name': get('host.name'),
    'java.version': process.version,
    'java.vendor': 'Node.js',
    'java.home': process.execPath,
    'java.class.path': process.argv[1] ?? '',
    'java.library.path': '',
    'java.io.tmpdir': process.env.TMPDIR ?? '/tmp',
    'java.compiler': '<NA>',
    'os.name': get('os.name'),
    'os.arch': get('os.arch'),
    'os.version': get('os.version'),
    'user.name': get('user.name'),
    'user.home': get('user.home'),
    'user.dir': get('user.dir'),
    'os.memory.free': get('os.memory.free'),
    'os.memory.max': get('os.memory.max'),
    'os.memory.total': get('os.memory.total'),
  };
}

/** Sessions as ZooKeeper prints them in JSON map keys (decimal), paths sorted. */
function bySession(entries: Iterable<readonly [bigint, readonly string[]]>): JsonObject {
  const out: JsonObject = {};
  for (const [sid, paths] of entries) out[sid.toString()] = [...paths].sort();
  return out;
}

const address = (host: string, port: number): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;

function votingView(ctx: AdminContext): CommandData {
  const e = ctx.ensemble;
  if (!e) return { current_config: {} };
  const view: JsonObject = {};
  for (const m of e.servers) {
    view[String(m.id)] = {
      server_addresses: [address(m.host, m.quorumPort)],
      election_addresses: [address(m.host, m.electionPort)],
      client_address: m.clientPort !== undefined ? address(m.clientHost ?? '0.0.0.0', m.clientPort) : '',
      learner_type: m.role,
    };
  }
  return { current_config: view };
}

/** Jackson's rendering of ZooKeeper's MultipleAddresses bean for a single (unresolved) address. */
function multipleAddresses(host: string, port: number): JsonObject {
  const a = address(host, port);
  return {
    empty: false,
    all_addresses: [a],
    all_reachable_addresses: [a],
    one: a,
    reachable_address: a,
    wildcard_addresses: [address('0.0.0.0', port)],
    all_ports: [port],
    all_host_strings: [host],
    all_reachable_addresses_or_all: [a],
    reachable_or_one: a,
  };
}

function zabState(ctx: AdminContext): CommandData {
  const e = ctx.ensemble;
  if (!e) return { voting: false, zabstate: '' };
  const me = e.servers.find((m) => m.id === ctx.myId);
  const phases: Record<string, string> = { election: 'election', discovery: 'discovery', sync: 'synchronization', broadcast: 'broadcast' };
  return {
    myid: ctx.myId,
    is_leader: e.isLeader,
    quorum_address: me ? multipleAddresses(me.host, me.quorumPort) : null,
    election_address: me ? multipleAddresses(me.host, me.electionPort) : null,
    client_address: me?.clientPort !== undefined ? address(me.clientHost ?? '0.0.0.0', me.clientPort) : '',
    voting: me?.role !== 'observer',
    last_zxid: hexZxid(e.lastZxid),
    zab_epoch: epochOf(e.lastZxid),
    zab_counter: Number(counterOf(e.lastZxid)),
    zabstate: phases[e.phase] ?? e.phase,
  };
}

function leader(ctx: AdminContext): CommandData {
  const e = ctx.ensemble;
  if (!e) return { error: 'server is not initialized' };
  const l = e.leaderId === undefined ? undefined : e.servers.find((m) => m.id === e.leaderId);
  return { is_leader: e.isLeader, leader_id: e.leaderId ?? -1, leader_ip: l?.host ?? '' };
}

function observers(ctx: AdminContext): CommandData {
  const obs = (ctx.learners ?? []).filter((l) => l.observer && l.stage === 'active');
  return { synced_observers: obs.length, observers: obs.map((o) => ({ sid: o.sid })) };
}

function lastSnapshot(ctx: AdminContext): CommandData {
  const snap = ctx.lastSnapshot();
  // Long.toHexString without 0x; ZooKeeper prints -1 as ffffffffffffffff when there is none.
  return snap ? { zxid: javaHex(snap.zxid), timestamp: Math.floor(snap.createdAtMs / 1000) } : { zxid: javaHex(-1n), timestamp: -1 };
}

function setTraceMask(ctx: AdminContext, params: URLSearchParams): CommandData {
  const raw = params.get('traceMask');
  if (raw === null || !/^-?\d+$/.test(raw) || BigInt(raw) !== BigInt.asIntN(64, BigInt(raw))) return { error: 'setTraceMask requires long traceMask argument' };
  ctx.setTraceMask(BigInt(raw));
  return { tracemask: BigInt(raw) };
}

const COMMANDS: readonly CommandDef[] = [
  { names: ['configuration', 'conf', 'config'], serverRequired: true, run: (c) => configuration(c.snapshot()) },
  { names: ['connection_stat_reset', 'crst'], serverRequired: true, run: (c) => (c.resetConnectionStats(), {}) },
  { names: ['connections', 'cons'], serverRequired: true, run: (c) => ({ connections: c.snapshot().connections.map((x) => connectionInfo(x, false)), secure_connections: [] }) },
  { names: ['dirs'], serverRequired: true, run: (c) => ({ datadir_size: c.snapshot().conf.dataDirSize, logdir_size: c.snapshot().conf.dataLogSize }) },
  {
    names: ['dump'],
    serverRequired: true,
    run: (c) => {
      const s = c.snapshot();
      const expiry: JsonObject = {};
      // Only the leader (or a standalone server) expires sessions; learners report none, as in ZooKeeper.
      const expires = !c.ensemble || c.ensemble.isLeader;
      for (const b of expires ? s.sessionBuckets : []) expiry[String(b.expiresAtMs)] = b.sessions;
      return { expiry_time_to_session_ids: expiry, session_id_to_ephemeral_paths: bySession(s.ephemerals) };
    },
  },
  { names: ['environment', 'env', 'envi'], serverRequired: false, run: (c) => environment(c.snapshot()) },
  { names: ['get_trace_mask', 'gtmk'], serverRequired: false, run: (c) => ({ tracemask: c.snapshot().traceMask }) },
  { names: ['initial_configuration', 'icfg'], serverRequired: true, run: (c) => ({ initial_configuration: c.initialConfiguration }) },
  { names: ['is_read_only', 'isro'], serverRequired: true, run: (c) => ({ read_only: c.snapshot().readOnly }) },
  { names: ['last_snapshot', 'lsnp'], serverRequired: true, run: lastSnapshot },
  { names: ['leader', 'lead'], serverRequired: true, run: leader },
  { names: ['monitor', 'mntr'], serverRequired: false, run: monitor },
  { names: ['observer_connection_stat_reset', 'orst'], serverRequired: true, run: () => ({}) },
  { names: ['observers', 'obsr'], serverRequired: true, run: observers },
  { names: ['ruok'], serverRequired: true, run: () => ({}) },
  { names: ['server_stats', 'srvr'], serverRequired: true, run: (c) => serverStats(c.snapshot()) },
  { names: ['set_trace_mask', 'stmk'], serverRequired: false, run: setTraceMask },
  { names: ['stat_reset', 'srst'], serverRequired: true, run: (c) => (c.resetServerStats(), {}) },
  {
    names: ['stats', 'stat'],
    serverRequired: true,
    run: (c) => {
      const s = c.snapshot();
      return { ...serverStats(s), connections: s.connections.map((x) => connectionInfo(x, true)), secure_connections: [] };
    },
  },
  { names: ['system_properties', 'sysp'], serverRequired: false, run: (c) => c.systemProperties() },
  { names: ['voting_view'], serverRequired: true, run: votingView },
  {
    names: ['watch_summary', 'wchs'],
    serverRequired: true,
    run: (c) => {
      const w = c.snapshot().watchSummary;
      return { num_connections: w.connections, num_paths: w.paths, num_total_watches: w.total };
    },
  },
  { names: ['watches', 'wchc'], serverRequired: true, run: (c) => ({ session_id_to_watched_paths: bySession(c.snapshot().watchesBySession) }) },
  {
    names: ['watches_by_path', 'wchp'],
    serverRequired: true,
    run: (c) => {
      const out: JsonObject = {};
      for (const [path, sids] of c.snapshot().watchesByPath) out[path] = sids;
      return { path_to_session_ids: out };
    },
  },
  { names: ['zabstate'], serverRequired: false, run: zabState },
];

/** ZooKeeperServerConf.toMap. */
function configuration(s: ServerSnapshot): CommandData {
  const c = s.conf;
  return {
    client_port: c.clientPort,
    data_dir: c.dataDir,
    data_log_dir: c.dataLogDir,
    tick_time: c.tickTime,
    max_client_cnxns: c.maxClientCnxns,
    min_session_timeout: c.minSessionTimeout,
    max_session_timeout: c.maxSessionTimeout,
    server_id: c.serverId,
    client_port_listen_backlog: c.clientPortListenBacklog,
  };
}

const BY_NAME: ReadonlyMap<string, CommandDef> = new Map(COMMANDS.flatMap((c) => c.names.map((n) => [n, c] as [string, CommandDef])));

/** Primary names, sorted: what GET /commands lists. */
export const PRIMARY_NAMES: readonly string[] = [...COMMANDS.map((c) => c.names[0]!), 'snapshot'].sort();

/** The 3.9 snapshot command streams bytes, so the HTTP shell handles it; listed for lookups. */
export const SNAPSHOT_NAMES: readonly string[] = ['snapshot', 'snap'];

/** The primary name of a command or alias, undefined when unknown. */
export function primaryName(name: string): string | undefined {
  if (SNAPSHOT_NAMES.includes(name)) return 'snapshot';
  return BY_NAME.get(name)?.names[0];
}

/**
 * Runs a command and returns CommandResponse.toMap(): the command's data, then `command` (the
 * primary name) and `error`, then the data again, so a command that put its own `error` keeps it
 * first (Java's LinkedHashMap order).
 */
export function runCommand(ctx: AdminContext, name: string, params: URLSearchParams, serving: boolean): JsonObject {
  const def = BY_NAME.get(name);
  if (!def) return { command: name, error: `Unknown command: ${name}` };
  const command = def.names[0]!;
  if (def.serverRequired && !serving) return { command, error: NOT_SERVING_ERROR };
  const data = def.run(ctx, params);
  return { ...data, command, error: null, ...data };
}
