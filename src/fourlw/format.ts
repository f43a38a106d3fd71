import { OpCode } from '../../protocol/jute/constants';
import type { ConnSnapshot, ServerSnapshot } from './snapshot';
import { Dbl, javaDate, javaDouble, javaHex, javaSocketAddress, round4 } from './java';

/**
 * Pure renderers for ZooKeeper 3.8's four-letter words (org.apache.zookeeper.server.command.*).
 * Java's PrintWriter.println writes "\n" on Linux, so every line ends in "\n" unless noted.
 */

export const NOT_SERVING = 'This ZooKeeper instance is not currently serving requests\n';

/** A command's output: one string, or pieces (big admin listings, streamed by the shell a slice at a time). */
type Formatter = (s: ServerSnapshot) => string | Iterable<string>;


function metricText(v: number | bigint | string | Dbl): string {
  if (v instanceof Dbl) return javaDouble(v.v);
  if (typeof v === 'bigint' || typeof v === 'string') return String(v);
  return Number.isInteger(v) ? String(v) : javaDouble(v);
}

/** ServerCnxn.dumpConnectionInfo. */
export function connectionLine(c: ConnSnapshot, brief: boolean): string {
  let s = ` ${javaSocketAddress(c.remoteAddress, c.remotePort)}[${c.interestOps === 0 ? '0' : c.interestOps.toString(16)}]`;
  s += `(queued=${c.queued},recved=${c.packetsReceived},sent=${c.packetsSent}`;
  if (!brief && c.sessionId !== 0n) {
    s += `,sid=0x${javaHex(c.sessionId)},lop=${c.lastOp},est=${c.establishedMs},to=${c.timeoutMs}`;
    if (c.lastCxid >= 0) s += `,lcxid=0x${c.lastCxid.toString(16)}`;
    s += `,lzxid=0x${javaHex(c.lastZxid)},lresp=${c.lastResponseMs},llat=${c.lastLatency}`;
    s += `,minlat=${c.minLatency},avglat=${Math.trunc(c.avgLatency)},maxlat=${c.maxLatency}`;
  }
  return `${s})\n`;
}

/** ServerStats.toString plus StatCommand's node count and leader proposal sizes. */
function statsBody(s: ServerSnapshot): string {
  let out =
    `Latency min/avg/max: ${s.latency.min}/${javaDouble(round4(s.latency.avg))}/${s.latency.max}\n` +
    `Received: ${s.packetsReceived}\n` +
    `Sent: ${s.packetsSent}\n` +
    `Connections: ${s.connections.length}\n` +
    `Outstanding: ${s.outstanding}\n` +
    `Zxid: 0x${javaHex(s.zxid)}\n` +
    `Mode: ${s.mode}\n` +
    `Node count: ${s.nodeCount}\n`;
  if (s.mode === 'leader' && s.proposalSizes) {
    const p = s.proposalSizes;
    out += `Proposal sizes last/min/max: ${p.last}/${p.min}/${p.max}\n`;
  }
  return out;
}

function versionHead(s: ServerSnapshot): string {
  let out = `Zookeeper version: ${s.version}\n`;
  if (s.readOnly) out += 'READ-ONLY mode; serving only read-only clients\n';
  return out;
}

const srvr: Formatter = (s) => versionHead(s) + statsBody(s);

const stat: Formatter = (s) =>
  versionHead(s) + 'Clients:\n' + s.connections.map((c) => connectionLine(c, true)).join('') + '\n' + statsBody(s);

const cons: Formatter = (s) => s.connections.map((c) => connectionLine(c, false)).join('') + '\n';

/** ZooKeeperServer.dumpConf (+ QuorumZooKeeperServer's quorum lines; their order is from memory). */
const conf: Formatter = (s) => {
  const c = s.conf;
  let out =
    `clientPort=${c.clientPort}\n` +
    `secureClientPort=${c.secureClientPort}\n` +
    `dataDir=${c.dataDir}\n` +
    `dataDirSize=${c.dataDirSize}\n` +
    `dataLogDir=${c.dataLogDir}\n` +
    `dataLogSize=${c.dataLogSize}\n` +
    `tickTime=${c.tickTime}\n` +
    `maxClientCnxns=${c.maxClientCnxns}\n` +
    `minSessionTimeout=${c.minSessionTimeout}\n` +
    `maxSessionTimeout=${c.maxSessionTimeout}\n` +
    `clientPortListenBacklog=${c.clientPortListenBacklog}\n` +
    `serverId=${c.serverId}\n`;
  if (c.quorum) {
    const q = c.quorum;
    out +=
      `initLimit=${q.initLimit}\n` +
      `syncLimit=${q.syncLimit}\n` +
      `electionAlg=${q.electionAlg}\n` +
      `electionPort=${q.electionPort}\n` +
      `quorumPort=${q.quorumPort}\n` +
      `peerType=${q.peerType}\n` +
      'membership: \n' +
      q.membership;
  }
  return out;
};

export type MonitorValue = number | bigint | string | Dbl;

/**
 * MonitorCommand: version and state first, then the gauges (ZooKeeper 3.8 prints them unordered).
 * The AdminServer's `monitor` and the Prometheus gauges read the same entries.
 */
export function monitorEntries(s: ServerSnapshot): [string, MonitorValue][] {
  const lines: [string, MonitorValue][] = [
    ['version', s.version],
    ['server_state', s.mode],
  ];
  if (s.peerState !== undefined) lines.push(['peer_state', s.peerState]);
  lines.push(
    ['avg_latency', new Dbl(round4(s.latency.avg))],
    ['max_latency', s.latency.max],
    ['min_latency', s.latency.min],
    ['packets_received', s.packetsReceived],
    ['packets_sent', s.packetsSent],
    ['num_alive_connections', s.connections.length],
    ['outstanding_requests', s.outstanding],
    ['uptime', s.uptimeMs],
    ['znode_count', s.nodeCount],
    ['watch_count', s.watchCount],
    ['ephemerals_count', s.ephemeralsCount],
    ['approximate_data_size', s.approximateDataSize],
    ['global_sessions', s.globalSessions],
    ['local_sessions', s.localSessions],
  );
  if (s.openFileDescriptorCount !== undefined) lines.push(['open_file_descriptor_count', s.openFileDescriptorCount]);
  if (s.maxFileDescriptorCount !== undefined) lines.push(['max_file_descriptor_count', s.maxFileDescriptorCount]);
  lines.push(
    ['connection_drop_probability', new Dbl(0)],
    ['last_client_response_size', s.clientResponseSize.last],
    ['max_client_response_size', s.clientResponseSize.max],
    ['min_client_response_size', s.clientResponseSize.min],
    ['outstanding_tls_handshake', 0],
    ['auth_failed_count', s.authFailedCount],
    ['non_mtls_remote_conn_count', 0],
    ['non_mtls_local_conn_count', 0],
  );
  if (s.quorumSize !== undefined) lines.push(['quorum_size', s.quorumSize]);
  if (s.leader) {
    const l = s.leader;
    lines.push(
      ['learners', l.learners],
      ['synced_followers', l.syncedFollowers],
      ['synced_non_voting_followers', l.syncedNonVotingFollowers],
      ['synced_observers', l.syncedObservers],
      ['pending_syncs', l.pendingSyncs],
      ['leader_uptime', l.leaderUptimeMs],
      ['last_proposal_size', l.lastProposalSize],
      ['max_proposal_size', l.maxProposalSize],
      ['min_proposal_size', l.minProposalSize],
    );
  } else if (s.followerSyncedObservers !== undefined) {
    lines.push(['synced_observers', s.followerSyncedObservers]);
  }
  for (const [k, v] of s.extraMetrics ?? []) lines.push([k, v]);
  return lines;
}

const mntr: Formatter = (s) =>
  monitorEntries(s)
    .map(([k, v]) => `zk_${k}\t${metricText(v)}\n`)
    .join('');

const envi: Formatter = (s) => 'Environment:\n' + s.env.map(([k, v]) => `${k}=${v}\n`).join('');

/** DataTree.dumpWatchesSummary (WatchManager.toString) plus the command's trailing println. */
const wchs: Formatter = (s) =>
  `${s.watchSummary.connections} connections watching ${s.watchSummary.paths} paths\nTotal watches:${s.watchSummary.total}\n`;

const wchc: Formatter = function* (s) {
  for (const [sid, paths] of s.watchesBySession) yield `0x${javaHex(sid)}\n` + paths.map((p) => `\t${p}\n`).join('');
  yield '\n';
};

const wchp: Formatter = function* (s) {
  for (const [path, sids] of s.watchesByPath) yield `${path}\n` + sids.map((sid) => `\t0x${javaHex(sid)}\n`).join('');
  yield '\n';
};

/**
 * DumpCommand: the session tracker's ExpiryQueue.dump, DataTree.dumpEphemerals, then the NIO
 * connection expiry queue. We have no per-connection expiry queue, so that part is always printed
 * empty (a deviation; ZooKeeper lists connections by idle-timeout bucket there).
 */
const dump: Formatter = function* (s) {
  yield 'SessionTracker dump:\n';
  yield `Session Sets (${s.sessionBuckets.length})/(${s.sessionCount}):\n`;
  for (const b of s.sessionBuckets) {
    yield `${b.sessions.length} expire at ${javaDate(b.expiresAtMs)}:\n`;
    for (const sid of b.sessions) yield `\t0x${javaHex(sid)}\n`;
  }
  yield 'ephemeral nodes dump:\n';
  yield `Sessions with Ephemerals (${s.ephemeralSessionCount}):\n`;
  for (const [sid, paths] of s.ephemerals) yield `0x${javaHex(sid)}:\n` + paths.map((p) => `\t${p}\n`).join('');
  yield 'Connections dump:\n';
  yield 'Connections Sets (0)/(0):\n';
};

const dirs: Formatter = (s) => `datadir_size: ${s.conf.dataDirSize}\nlogdir_size: ${s.conf.dataLogSize}\n`;

/** Commands and whether they answer NOT_SERVING when the server is not serving. */
const FORMATTERS: Readonly<Record<string, { run: Formatter; needsServing: boolean; notServing?: string }>> = {
  ruok: { run: () => 'imok', needsServing: false },
  isro: { run: (s) => (s.readOnly ? 'ro' : 'rw'), needsServing: true, notServing: 'null' },
  srvr: { run: srvr, needsServing: true },
  stat: { run: stat, needsServing: true },
  cons: { run: cons, needsServing: true },
  conf: { run: conf, needsServing: true },
  mntr: { run: mntr, needsServing: true },
  envi: { run: envi, needsServing: false },
  wchs: { run: wchs, needsServing: true },
  wchc: { run: wchc, needsServing: true },
  wchp: { run: wchp, needsServing: true },
  dump: { run: dump, needsServing: true },
  dirs: { run: dirs, needsServing: true },
  srst: { run: () => 'Server stats reset.\n', needsServing: true },
  crst: { run: () => 'Connection stats reset.\n', needsServing: true },
  gtmk: { run: (s) => String(s.traceMask), needsServing: false },
};

/**
 * Output of a four-letter word, or undefined for a name we cannot render (stmk needs 8 more bytes
 * and hash needs the digest log: the caller handles those). srst/crst only produce the text; the
 * caller does the reset.
 */
export function formatFourLetter(cmd: string, snap: ServerSnapshot): string | undefined {
  const out = renderFourLetter(cmd, snap);
  return out === undefined ? undefined : typeof out === 'string' ? out : [...out].join('');
}

/** Like formatFourLetter, but big listings (wchc, wchp, dump) come as pieces to write a slice at a time. */
export function renderFourLetter(cmd: string, snap: ServerSnapshot): string | Iterable<string> | undefined {
  const f = FORMATTERS[cmd];
  if (!f) return undefined;
  if (f.needsServing && !snap.serving) return f.notServing ?? NOT_SERVING;
  return f.run(snap);
}

/** stmk's reply: the new trace mask in decimal, no newline. */
export function formatSetTraceMask(mask: bigint): string {
  return mask.toString();
}

/**
 * ZooKeeper's short operation names as `cons` prints them in lop= (FinalRequestProcessor's
 * lastOp strings, from memory of the 3.8 source; unlisted ops print "NA").
 */
const OP_SHORT_NAMES: ReadonlyMap<number, string> = new Map<number, string>([
  [OpCode.ping, 'PING'],
  [OpCode.createSession, 'SESS'],
  [OpCode.closeSession, 'CLOS'],
  [OpCode.multi, 'MULT'],
  [OpCode.multiRead, 'MLTR'],
  [OpCode.create, 'CREA'],
  [OpCode.create2, 'CREA'],
  [OpCode.createTTL, 'CREA'],
  [OpCode.createContainer, 'CREA'],
  [OpCode.delete, 'DELE'],
  [OpCode.deleteContainer, 'DELE'],
  [OpCode.reconfig, 'RECO'],
  [OpCode.setData, 'SETD'],
  [OpCode.setACL, 'SETA'],
  [OpCode.sync, 'SYNC'],
  [OpCode.check, 'CHEC'],
  [OpCode.exists, 'EXIS'],
  [OpCode.getData, 'GETD'],
  [OpCode.setWatches, 'SETW'],
  [OpCode.setWatches2, 'STW2'],
  [OpCode.addWatch, 'ADDW'],
  [OpCode.getACL, 'GETA'],
  [OpCode.getChildren, 'GETC'],
  [OpCode.getChildren2, 'GETC'],
  [OpCode.getAllChildrenNumber, 'GETACN'],
  [OpCode.checkWatches, 'CHKW'],
  [OpCode.removeWatches, 'REMW'],
  [OpCode.getEphemerals, 'GETE'],
  [OpCode.whoAmI, 'HOMI'],
]);

export function fourLetterOpName(opCode: number): string {
  return OP_SHORT_NAMES.get(opCode) ?? 'NA';
}
