import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { loopLag, timed } from '../metrics/looplag';
import fs from 'node:fs';
import os from 'node:os';
import { decideFourLetter, renderFourLetter, formatSetTraceMask, type ConnSnapshot, type ServerSnapshot } from '../fourlw';
import type { ClientConnection } from './connection';
import type { ZkServer } from './zkserver';
import { PACKAGE_VERSION } from '../util/version';
import { ensembleConfigText } from './ensemble';
import { fileDescriptors } from '../metrics/process';
import { Dbl } from '../fourlw';

/** Streaming a big 4lw answer: render for this long per turn, in pieces of about this many characters. */
const STREAM_SLICE_MS = 5;
const STREAM_PIECE_CHARS = 64 * 1024;
/** Wait for the client to read when more than this is buffered for it. */
const STREAM_BUFFER_BYTES = 1 << 20;

/** A lazy map over an iterable (the listing is computed as the answer is written). */
function* map<T, U>(items: Iterable<T>, fn: (t: T) => U): Iterable<U> {
  for (const t of items) yield fn(t);
}

/**
 * srvr/stat print `Zookeeper version: <version>-<build>, built on <date> UTC`; monitoring scripts
 * parse that shape, so we keep it. Our build stamp is the compiled file's time.
 */
const VERSION = `3.8.4-zabkeeper-${PACKAGE_VERSION}, built on ${buildDate()} UTC`;

function buildDate(): string {
  let ms = Date.now();
  try {
    ms = fs.statSync(__filename).mtimeMs;
  } catch {
    // running from an in-memory transform: use now
  }
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

/**
 * The shell side of the four-letter words: decides from the first 4 bytes whether a connection is
 * a 4lw (src/fourlw decides, pure), performs the few side effects (crst, srst, stmk), renders the
 * answer from a snapshot of live state, writes it and closes, as ZooKeeper does.
 */
export class FourLetterWords {
  /** ZooKeeper's trace mask (gtmk/stmk, also the AdminServer's set_trace_mask); nothing reads it. */
  traceMask = 0n;

  constructor(private readonly server: ZkServer) {}

  onPrelude(conn: ClientConnection, first4: number, rest: Buffer): 'fourLetter' | 'needMore' | 'protocol' {
    const decision = decideFourLetter(first4, this.server.options.fourLetterWhitelist);
    if (decision.kind === 'notFourLetter') return 'protocol';
    if (decision.kind === 'refuse') {
      this.answer(conn, decision.text);
      return 'fourLetter';
    }
    const cmd = decision.cmd;
    if (cmd === 'stmk') {
      // stmk carries an 8-byte trace mask after the command.
      if (rest.length < 8) return 'needMore';
      this.traceMask = rest.readBigInt64BE(0);
      this.answer(conn, formatSetTraceMask(this.traceMask));
      return 'fourLetter';
    }
    if (cmd === 'crst') for (const c of this.server.allConnections()) c.resetStats();
    if (cmd === 'srst') {
      this.server.stats.reset();
      loopLag.reset();
    }
    const out = timed(`4lw ${cmd}`, () => renderFourLetter(cmd, this.snapshot())) ?? `${cmd} is not supported by this server.\n`;
    if (typeof out === 'string') this.answer(conn, out);
    else void this.stream(conn, cmd, out[Symbol.iterator]());
    return 'fourLetter';
  }

  /**
   * Big listings (wchp, wchc, dump over a million watches or ephemerals) are rendered and written a
   * slice per event-loop turn, pausing while the client reads slowly: no turn blocks on them.
   */
  private async stream(conn: ClientConnection, cmd: string, pieces: Iterator<string>): Promise<void> {
    for (let done = false; !done && conn.isOpen; ) {
      done = timed(`4lw ${cmd}`, () => {
        const until = performance.now() + STREAM_SLICE_MS;
        let text = '';
        for (;;) {
          const next = pieces.next();
          if (next.done) {
            conn.writeRaw(text);
            return true;
          }
          text += next.value;
          if (text.length >= STREAM_PIECE_CHARS || performance.now() > until) break;
        }
        conn.writeRaw(text);
        return false;
      });
      if (done) break;
      await conn.drained(STREAM_BUFFER_BYTES);
      // A resolved promise continues in the same turn: yield to the event loop explicitly.
      await nextTurn();
    }
    conn.endGracefully();
  }

  private answer(conn: ClientConnection, text: string): void {
    conn.writeRaw(text);
    conn.endGracefully();
  }

  /** Everything the formatters print, read from live state at this moment. */
  snapshot(): ServerSnapshot {
    const s = this.server;
    const tree = s.db.tree;
    const sessionOf = new Map<number, bigint>();
    const conns: ConnSnapshot[] = [];
    for (const c of s.allConnections()) {
      sessionOf.set(c.id, c.sessionId);
      if (c.sessionId === 0n) continue;
      conns.push(connSnapshot(c));
    }
    // Listings of every watch and ephemeral are produced only by the commands that print them, and
    // lazily, as they are written (see stream()).
    const watchesBySession = map(s.watches.connectionWatches('data'), ([conn, paths]): [bigint, string[]] => [sessionOf.get(conn) ?? 0n, paths]);
    const watchesByPath = map(s.watches.pathWatchers('data'), ([path, connIds]): [string, bigint[]] => [path, connIds.map((id) => sessionOf.get(id) ?? 0n)]);
    const ephemeralSessions = tree.sessionsWithEphemerals();
    const ephemerals = map(ephemeralSessions, (sid): [bigint, string[]] => [sid, tree.getEphemerals(sid)]);
    const st = s.stats;
    const fds = fileDescriptors();
    const base: ServerSnapshot = {
      serving: s.isServing,
      version: VERSION,
      mode: s.mode,
      zxid: s.lastZxid(),
      latency: { min: st.minLatencyMs, avg: st.avgLatencyMs, max: st.maxLatencyMs },
      packetsReceived: st.packetsReceived,
      packetsSent: st.packetsSent,
      outstanding: s.outstandingRequests(),
      // ZooKeeper counts the root twice ("" and "/"), so a fresh server reports 5; match it.
      nodeCount: tree.nodeCount + 1,
      connections: conns,
      uptimeMs: Date.now() - s.startedAt,
      watchCount: s.watches.count(),
      ephemeralsCount: tree.ephemeralCount,
      approximateDataSize: tree.approximateDataSize,
      globalSessions: s.db.sessions.size,
      localSessions: 0,
      clientResponseSize: { ...s.metrics.clientResponse },
      openFileDescriptorCount: fds.open,
      maxFileDescriptorCount: fds.max,
      authFailedCount: 0,
      extraMetrics: [
        ...this.observedMetrics(),
        ['zabkeeper_txns_committed', st.txnsCommitted],
        ['zabkeeper_commit_batches', st.commitBatches],
        ['zabkeeper_largest_commit_batch', st.largestCommitBatch],
        ['zabkeeper_snapshots_taken', st.snapshotsTaken],
        ['zabkeeper_notifications_sent', st.notificationsSent],
        ['zabkeeper_rejected_connections', st.rejectedConnections],
        ['zabkeeper_epoch', s.epoch()],
        ...loopLag.metrics(),
      ],
      conf: this.baseConf(),
      // Only dump prints these (100k sessions): built on first use.
      get sessionBuckets() {
        return s.sessions.dumpBuckets().map((b) => ({ expiresAtMs: b.expiresAt, sessions: b.sessions }));
      },
      sessionCount: s.db.sessions.size,
      ephemerals,
      ephemeralSessionCount: ephemeralSessions.length,
      watchSummary: {
        connections: s.watches.connectionCount('data'),
        paths: s.watches.pathCount('data'),
        total: s.watches.dataTableCount(),
      },
      watchesBySession,
      watchesByPath,
      env: environment(),
      traceMask: Number(this.traceMask),
      readOnly: false,
    };
    const q = this.quorumFields();
    // Assigned onto base, not spread: spreading would evaluate base's lazy getters.
    const extraMetrics = [...(base.extraMetrics ?? []), ...(q.extraMetrics ?? [])];
    return Object.assign(base, q, { extraMetrics });
  }

  /**
   * ZooKeeper's counters and summaries, as its DefaultMetricsProvider prints them in mntr:
   * counters by name, each summary as avg_/min_/max_/cnt_/sum_<name> (avg a double).
   */
  private observedMetrics(): [string, number | Dbl][] {
    const m = this.server.metrics;
    const out: [string, number | Dbl][] = Object.entries(m.counters);
    out.push(['connection_rejected', this.server.stats.rejectedConnections], ['stale_sessions_expired', this.server.stats.sessionsExpired]);
    for (const [ns, n] of m.quotaExceeded) out.push([`${ns}_quota_exceeded_error_per_namespace`, n]);
    for (const summary of m.summaries()) {
      for (const [k, v] of summary.mntrEntries()) out.push([k, k.startsWith('avg_') ? new Dbl(v) : v]);
    }
    return out;
  }

  private baseConf(): ServerSnapshot['conf'] {
    const s = this.server;
    const o = s.options;
    const sizes = s.store.sizes();
    const dirs = s.store.describe();
    return {
      clientPort: o.listenPlaintext === false ? -1 : s.port,
      secureClientPort: s.securePort ?? -1,
      dataDir: dirs.dataDir,
      dataDirSize: sizes.dataBytes,
      dataLogDir: dirs.dataLogDir,
      dataLogSize: sizes.logBytes,
      tickTime: o.tickTimeMs,
      maxClientCnxns: o.maxClientCnxns,
      minSessionTimeout: o.minSessionTimeoutMs,
      maxSessionTimeout: o.maxSessionTimeoutMs,
      clientPortListenBacklog: -1,
      serverId: o.serverId,
    };
  }

  /** Ensemble-only facts: peer state, quorum size and the quorum lines of `conf`. */
  private quorumFields(): Partial<ServerSnapshot> {
    const e = this.server.options.ensemble;
    const q = this.server.quorumStatus();
    if (!e || !q) return {};
    const self = e.servers.find((m) => m.id === e.myid)!;
    const mode = this.server.mode;
    const voters = e.servers.filter((m) => m.role !== 'observer').length;
    const learners = this.server.learnerStatus();
    const leader = learners && {
      learners: learners.length,
      syncedFollowers: learners.filter((l) => !l.observer && l.stage === 'active').length,
      syncedNonVotingFollowers: 0,
      syncedObservers: learners.filter((l) => l.observer && l.stage === 'active').length,
      pendingSyncs: learners.filter((l) => l.stage === 'syncing').length,
      leaderUptimeMs: this.server.leaderSince ? Date.now() - this.server.leaderSince : 0,
      lastProposalSize: this.server.proposalSizes.last,
      maxProposalSize: this.server.proposalSizes.max,
      minProposalSize: this.server.proposalSizes.min,
    };
    return {
      leader,
      // Per learner: how far its log is durable, so an operator sees who lags (zabkeeper's own
      // metric); and this server's own durable log end (tests wait on it instead of sleeping).
      extraMetrics: [
        ['zabkeeper_logged_zxid', q.loggedZxid] as [string, bigint],
        ...(learners ?? []).map((l) => [`zabkeeper_learner_${l.sid}_acked_zxid`, l.ackedZxid] as [string, bigint]),
      ],
      peerState: `${mode === 'leader' ? 'leading' : mode === 'observer' ? 'observing' : q.role === 'looking' ? 'looking' : 'following'} - ${q.phase}`,
      quorumSize: voters,
      conf: {
        ...this.baseConf(),
        quorum: {
          initLimit: e.initLimit,
          syncLimit: e.syncLimit,
          electionAlg: 3,
          electionPort: self.electionPort,
          quorumPort: self.quorumPort,
          peerType: self.role === 'observer' ? 1 : 0,
          membership: ensembleConfigText(e.servers, e.configVersion),
        },
      },
    };
  }
}

function connSnapshot(c: ClientConnection): ConnSnapshot {
  const st = c.stats;
  return {
    remoteAddress: c.remoteAddress,
    remotePort: c.remotePort,
    interestOps: c.isPaused ? 0 : 1,
    queued: c.outstanding,
    packetsReceived: st.packetsReceived,
    packetsSent: st.packetsSent,
    sessionId: c.sessionId,
    lastOp: st.lastOp,
    establishedMs: c.establishedAt,
    timeoutMs: c.timeoutMs,
    lastCxid: st.lastCxid,
    lastZxid: st.lastZxid,
    lastResponseMs: st.lastResponseAt,
    lastLatency: st.lastLatencyMs,
    minLatency: st.minLatencyMs,
    avgLatency: st.latencyCount === 0 ? 0 : Math.floor(st.totalLatencyMs / st.latencyCount),
    maxLatency: st.maxLatencyMs,
  };
}

/** What `envi` prints: the JVM's environment facts, mapped to ours. */
function environment(): [string, string][] {
  return [
    ['zookeeper.version', VERSION],
    ['host.name', os.hostname()],
    ['node.version', process.version],
    ['node.platform', process.platform],
    ['os.name', os.type()],
    ['os.arch', os.arch()],
    ['os.version', os.release()],
    ['user.name', os.userInfo().username],
    ['user.home', os.homedir()],
    ['user.dir', process.cwd()],
    ['os.memory.free', `${Math.round(os.freemem() / 1048576)}MB`],
    ['os.memory.max', `${Math.round(os.totalmem() / 1048576)}MB`],
    ['os.memory.total', `${Math.round(process.memoryUsage().rss / 1048576)}MB`],
  ];
}
