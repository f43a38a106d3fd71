import type net from 'node:net';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { ErrorCode, OpCode, Perms } from '../../protocol/jute/constants';
import { fourLetterOpName } from '../fourlw';
import { JuteReader } from '../../protocol/jute/reader';
import type { JuteWriter } from '../../protocol/jute/writer';
import { JuteDecodeError } from '../../protocol/jute/errors';
import { readConnectRequest, readRequestHeader, writeConnectResponse } from '../../protocol/jute/records';
import type { ACL, Id } from '../../protocol/jute/data';
import { opTable } from '../ops';
import type { WatchEvent } from '../tree/events';
import { applyTxn, decodeTxn, encodeTxn, type ApplyResult, type Txn, type ZkDatabase } from '../tree';
import { Prep } from '../pipeline/prep';
import { authenticate, checkAcl } from '../acl';
import { SessionTracker, SessionIdGenerator, negotiateTimeout } from '../session';
import { WatchManager } from '../watch';
// Not '../storage': its index loads the SQLite store, which is loaded only when used (start()).
import { StorageFatalError, type LogEntry, type Store } from '../storage/types';
import { decodeSnapshotRef } from '../storage/bodies';
import type { SnapshotSync } from './snapsync';
import { loadSnapshot } from './snapshots';
import { loopLag, timed } from '../metrics/looplag';
import { ZabReplicator, type ZabHost } from '../quorum/zab';
import type { ShellBugs } from '../quorum/execute';
import type { RoleEvent } from '../quorum/core';
import type { MessageOf, PeerMessage } from '../../protocol/peer/messages';
import { decodeForward, encodeForward, type Forward } from './forward';
import { buildReplication, ensembleConfigText, type ReplicationTestHooks } from './ensemble';
import { zxidHex } from '../util/zxid';
import { contactLimitMs } from '../quorum/core/timing';
import { ClientConnection, normalizeAddress, type ConnectionHost } from './connection';
import { connOpTable, type ConnOpHost } from './connops/table';
import { writeNotification, writeReply } from './replies';
import type { PendingRequest, ReplyEncoder } from './pending';
import type { ServerOptions } from './options';
import { recoverDatabase } from './recovery';
import { FourLetterWords } from './fourletter';
import { ServerStats } from './stats';
import { Housekeeping } from './housekeeping';
import { eventDetail, grantFeatures, hasFeature, newWatchHistory, writeDetailedNotification, type DetailLookup } from './resumable';
import type { WatchHistory } from '../watch/history';
import { Feature } from '../../protocol/jute/extensions';
import { ServerMetrics } from '../metrics/hub';
import { instrumentStore } from '../metrics/store';
import { noteQuotaExceeded, quotaRejectedPath, startOperations, type Operations } from './operations';
import { describeRequest, describeRequestBytes } from './audit';
import type { ServerSnapshot } from '../fourlw';
import { ClientSecurity } from './security';
import { resolveSecurity } from '../config/security';
import { systemClock, type Clock, type TimerHandle } from '../util/clock';
import { systemRng, type Rng } from '../util/rng';
import { nodeNetwork, type Network } from '../util/network';

/**
 * The I/O a server is given. Production defaults: the SQLite store in dataDir, Node's clock and
 * timers, the OS's randomness. The simulator passes a memory store, simulated time and a seeded
 * generator, so it runs this same class.
 */
export interface ServerDeps {
  store?: Store;
  clock?: Clock;
  rng?: Rng;
  /** The client listener and the peer transport's sockets. */
  network?: Network;
  /** Test-only (the simulator): planted bugs, a small zxid counter limit. */
  testHooks?: ReplicationTestHooks;
  /** Called synchronously as things happen (the simulator's checkers; tooling). */
  observer?: ServerObserver;
}

/** What a server reports to an observer, as it happens. */
export interface ServerObserver {
  /** A txn was applied; `db` is the state right after it; `events` are the watch events it raised. */
  applied?(txn: Txn, db: ZkDatabase, events: readonly WatchEvent[]): void;
  /** A SNAP sync replaced the state (already durable). */
  snapshotInstalled?(zxid: bigint, db: ZkDatabase): void;
  role?(ev: RoleEvent): void;
  peerSent?(to: number, msg: PeerMessage): void;
  peerReceived?(from: number, msg: PeerMessage): void;
  /** Peer input the quorum core dropped on purpose. */
  ignored?(ignored: ReadonlyArray<{ from: number; type: string; why: string }>): void;
  /** This server (the leader, or standalone) proposed a txn. */
  proposed?(txn: Txn): void;
}

/** A txn in flight: who asked for it and how to answer once it is applied. */
interface InFlight {
  txn: Txn;
  conn?: ClientConnection;
  pending?: PendingRequest;
  /** Builds the reply from the apply result. */
  respond?: (out: JuteWriter, result: unknown) => void;
  /** When it was proposed (ms, monotonic): the leader's quorum_ack_latency. */
  proposedAt?: number;
}

/** A request a learner forwarded to the leader, answered when its txn commits here. */
interface Awaiting {
  conn: ClientConnection;
  pending: PendingRequest;
  respond: (out: JuteWriter, result: unknown, txn: Txn) => void;
}

const EXPIRED_PASSWD = Buffer.alloc(16);

/** Key for matching a committed txn to the learner-side request that caused it. */
function awaitKey(sessionId: bigint, cxid: number | string): string {
  return `${sessionId}:${cxid}`;
}

/**
 * Hands a committed write's reply to its slot in the connection's FIFO. SessionMoved is a
 * connection-level error, as in ZooKeeper (FinalRequestProcessor, ZOOKEEPER-710): the request is
 * not answered and the connection closes once the replies before it are out, so the client sees
 * ConnectionLoss and reconnects, which claims the session again. Answered instead, a client whose
 * claim was overtaken by a late one (a revalidate from a server it had already given up on) heard
 * SessionMoved on every write for as long as it stayed (a Mutex holder could not even delete its
 * lock node: nemesis seed 5005).
 */
function settle(pending: PendingRequest, txn: Txn, reply: ReplyEncoder): void {
  if (txn.body.type === 'error' && txn.body.err === ErrorCode.sessionMoved) {
    pending.reply = () => undefined;
    pending.closeAfter = true;
    return;
  }
  pending.reply = reply;
}

/**
 * The composition root of one server: listener, connections, the write path
 * (prep -> log -> commit -> apply -> respond) and housekeeping timers. All protocol decisions are
 * made by the pure modules it wires together; this class owns sockets, clocks and storage.
 */
export class ZkServer extends EventEmitter implements ConnectionHost, ConnOpHost, ZabHost {
  readonly maxFrameBytes: number;
  readonly watches: WatchManager;
  readonly reconfigEnabled: boolean;
  readonly stats = new ServerStats();
  /** ZooKeeper's summaries and counters (mntr, AdminServer monitor, Prometheus). */
  readonly metrics: ServerMetrics;
  /** Metrics endpoint, AdminServer, audit log (started last, closed first). */
  private operations: Operations | undefined;
  readonly sessions: SessionTracker;
  db: ZkDatabase;
  private prep: Prep;
  /** Replication: the ZAB driver around this server's quorum core (standalone: a core of one voter). */
  private zab!: ZabReplicator;
  /** SNAP streaming (ensembles): holds the trees decoded from received SNAPs until installed. */
  private snapSync: SnapshotSync | undefined;
  /** This server counts among loopLag's users (real clocks only: it measures Node's own loop). */
  private measuresLoopLag = false;
  /** Clients are served only while this server is in a working quorum (always, standalone). */
  private serving = true;
  private role: RoleEvent | undefined;
  private readonly awaiting = new Map<string, Awaiting>();
  /** Learner: sessions touched since the last report to the leader. */
  private readonly touched = new Set<bigint>();
  /** syncs waiting for the quorum's answer, in request order. */
  private readonly syncWaiters: PendingRequest[] = [];
  /** Connections with a sync barrier in their FIFO: re-drained after every commit batch. */
  private readonly barrierWaiting = new Set<ClientConnection>();
  private touchTimer: TimerHandle | undefined;
  /** Test-only planted shell bugs (the simulator's); empty in production. */
  private shellBugs: ShellBugs = {};
  /** The quorum core's tick (tickTime/10) in an ensemble. */
  private coreTickMs = 0;
  /** Leader: which server each session is attached to (ZooKeeper's session owner). */
  private readonly sessionOwner = new Map<bigint, number>();
  private readonly idGen: SessionIdGenerator;
  private readonly listener: net.Server;
  private readonly connections = new Map<number, ClientConnection>();
  private readonly connsByIp = new Map<string, number>();
  private readonly connBySession = new Map<bigint, ClientConnection>();
  /** Learner: resumed sessions waiting for the leader's verdict (ZooKeeper's Learner.validateSession), with the password the client offered. */
  private readonly revalidating = new Map<bigint, { conn: ClientConnection; timeoutMs: number; passwd: Buffer }>();
  private readonly inFlight = new Map<bigint, InFlight>();
  private readonly dirty = new Set<ClientConnection>();
  readonly fourLetter: FourLetterWords;
  /** TLS client port, x509 ids, SASL and enforce.auth (src/server/security.ts). */
  clientSecurity!: ClientSecurity;
  private readonly housekeeping: Housekeeping;
  private flushScheduled = false;
  /** Closes the peer transport (set by buildEnsemble). */
  ensembleShutdown: (() => Promise<void>) | undefined;
  private stopped = false;
  private fatalError: Error | undefined;
  readonly startedAt: number;

  private constructor(
    readonly options: ServerOptions,
    readonly store: Store,
    db: ZkDatabase,
    readonly logger: Logger,
    metrics: ServerMetrics,
    /** Every applied event, for resumable watches (./resumable.ts). */
    readonly history: WatchHistory,
    readonly clock: Clock,
    readonly rng: Rng,
    readonly network: Network,
    readonly observer: ServerObserver = {},
  ) {
    super();
    this.startedAt = clock.wallNow();
    this.metrics = metrics;
    this.maxFrameBytes = options.maxFrameBytes;
    this.reconfigEnabled = options.reconfigEnabled;
    this.db = db;
    this.watches = new WatchManager();
    this.sessions = new SessionTracker({ tickTimeMs: options.tickTimeMs });
    this.idGen = new SessionIdGenerator({ serverId: options.serverId, startMs: clock.wallNow() });
    this.prep = new Prep(db);
    // Sessions restored from disk get a full timeout from now, as ZooKeeper does on restart.
    const now = clock.now();
    for (const [sid, s] of db.sessions) {
      this.idGen.observe(sid);
      this.sessions.add(sid, s.timeoutMs, now);
    }
    this.fourLetter = new FourLetterWords(this);
    this.housekeeping = new Housekeeping(this);
    this.listener = network.createServer((socket) => this.clientSecurity.plaintextPort(socket));
    this.listener.on('error', (err) => this.logger.error({ err }, 'listener error'));
  }

  /**
   * Opens the store (SQLite in dataDir unless `deps.store` is given: an in-memory store for
   * `startTestServer({ storage: 'memory' })`), recovers the tree and starts listening (and, in an
   * ensemble, electing). SQLite is loaded only here, so a memory-store server runs without it.
   */
  static async start(options: ServerOptions, logger: Logger, deps: ServerDeps = {}): Promise<ZkServer> {
    const clock = deps.clock ?? systemClock;
    const rng = deps.rng ?? systemRng;
    const network = deps.network ?? nodeNetwork;
    // Key stores and the JAAS file first: a bad one stops the start before anything is opened.
    const clientSecurity = ClientSecurity.create(options.security ?? resolveSecurity(new Map()).security, logger);
    const metrics = new ServerMetrics(clock.wallNow());
    const store = instrumentStore(
      deps.store ??
        (await import('../storage/sqlite')).openSqliteStore({ dataDir: options.dataDir, dataLogDir: options.dataLogDir, logger, failpoints: options.storageFailpoints }),
      metrics,
    );
    let server: ZkServer;
    try {
      // In an ensemble the log may hold proposals that were never committed: only the snapshot is
      // applied now, the logged rest is applied when the new leader commits it.
      const loadStarted = clock.now();
      const history = newWatchHistory(options);
      // Only the snapshot is applied now: the log may hold proposals that were never committed, and
      // what is committed is applied when the leader (standalone: this server, at once) commits it.
      const db = recoverDatabase(store, logger, { replayLog: false, history, clock });
      metrics.dbinittime.add(clock.now() - loadStarted);
      server = new ZkServer(options, store, db, logger, metrics, history, clock, rng, network, deps.observer);
      server.clientSecurity = clientSecurity;
      server.shellBugs = deps.testHooks?.shellBugs ?? {};
      if (options.ensemble) server.publishEnsembleConfig();
      const { replicator, timing, snapSync } = await buildReplication(server, store, db.lastProcessedZxid, options, logger, deps.testHooks);
      server.snapSync = snapSync;
      server.zab = replicator;
      server.coreTickMs = timing.coreTickMs;
      server.serving = false;
      // Standalone, the core elects itself, establishes a new epoch and commits its whole log in
      // these first Readys. Applying a long log is sliced across turns (apply slicing), so the port
      // opens once all of it is applied: as ZooKeeper's standalone server replays its log before it
      // serves, a client is never turned away as "not serving" by a server that just started.
      replicator.flush();
      if (!options.ensemble) await server.untilServing();
    } catch (err) {
      store.close();
      throw err;
    }
    // TLS first: with client.portUnification the plaintext port hands TLS clients to it.
    await clientSecurity.listen((socket, ids) => server.onSocket(socket, ids));
    // A config with only secureClientPort opens no plaintext port.
    if (options.listenPlaintext !== false) {
      await new Promise<void>((resolve, reject) => {
        server.listener.once('error', reject);
        server.listener.listen({ host: options.host, port: options.port, backlog: 511 }, () => {
          server.listener.off('error', reject);
          resolve();
        });
      }).catch(async (err: unknown) => {
        await clientSecurity.close();
        throw err;
      });
    }
    server.housekeeping.start();
    store.checkpointInBackground();
    if (clock === systemClock) {
      loopLag.start(logger);
      server.measuresLoopLag = true;
    }
    try {
      server.operations = await startOperations(server, options, logger);
    } catch (err) {
      await server.close();
      throw err;
    }
    server.zab.start();
    if (options.ensemble) {
      // Once per core tick: contactLimitMs's arithmetic (a cut-off follower drops its clients before
      // the leader can expire their sessions) counts on both this often.
      server.touchTimer = clock.setInterval(() => {
        server.reportTouches();
        server.checkContact();
      }, server.coreTickMs);
    }
    logger.info({ host: options.host, port: options.listenPlaintext !== false ? server.port : undefined, securePort: clientSecurity.securePort, zxid: zxidHex(server.lastZxid()), epoch: server.zab.epoch() }, 'serving clients');
    return server;
  }

  /** This server's id in the ensemble (its own id standalone). */
  get myId(): number {
    return this.options.ensemble?.myid ?? this.options.serverId;
  }

  /** The plaintext client port; with only a secure client port, that one. */
  get port(): number {
    const addr = this.listener.address();
    return typeof addr === 'object' && addr ? addr.port : this.clientSecurity.securePort ?? this.options.port;
  }

  /** The TLS client port (secureClientPort), if any. */
  get securePort(): number | undefined {
    return this.clientSecurity.securePort;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  allConnections(): IterableIterator<ClientConnection> {
    return this.connections.values();
  }

  get mode(): 'standalone' | 'leader' | 'follower' | 'observer' {
    if (!this.options.ensemble) return 'standalone';
    const role = this.role?.role;
    return role === 'leading' ? 'leader' : role === 'observing' ? 'observer' : 'follower';
  }

  get isServing(): boolean {
    return this.serving && !this.fatalError;
  }

  /** The running AdminServer (the web console mounts on it), if any. */
  get adminServer(): Operations['admin'] {
    return this.operations?.admin;
  }

  /** Where the metrics endpoint and the AdminServer listen (0 = off). */
  get operationPorts(): { metrics: number; admin: number } {
    return { metrics: this.operations?.metricsPort ?? 0, admin: this.operations?.adminPort ?? 0 };
  }

  /** Everything the four-letter words, the AdminServer and the metrics report, read now. */
  statusSnapshot(): ServerSnapshot {
    return this.fourLetter.snapshot();
  }

  quorumStatus(): ReturnType<ZabReplicator['status']> | undefined {
    return this.options.ensemble ? this.zab.status() : undefined;
  }

  /** Whether `zxid` is in this server's replicated history (logged, or covered by its snapshot). */
  hasLogged(zxid: bigint): boolean {
    return this.zab.hasLogged(zxid);
  }

  learnerStatus(): ReturnType<ZabReplicator['learnerStatus']> {
    return this.options.ensemble ? this.zab.learnerStatus() : undefined;
  }

  /** When this server last became an established leader (for zk_leader_uptime). */
  leaderSince = 0;
  /** Sizes of proposals this server made (zk_last/min/max_proposal_size); -1 until one is made. */
  readonly proposalSizes = { last: -1, min: -1, max: -1 };

  epoch(): number {
    return this.zab.epoch();
  }

  lastZxid(): bigint {
    return this.db.lastProcessedZxid;
  }

  outstandingRequests(): number {
    let n = 0;
    for (const c of this.connections.values()) n += c.outstanding;
    return n;
  }

  // ---------------------------------------------------------------- connections

  /** A new client socket (plaintext, or TLS after its handshake with the ids its certificate proved). */
  private onSocket(socket: net.Socket, ids: readonly Id[] = []): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    // Per-IP limit keyed like ACLs: `::ffff:1.2.3.4` and `1.2.3.4` are the same client.
    const ip = normalizeAddress(socket.remoteAddress ?? '');
    const count = this.connsByIp.get(ip) ?? 0;
    if (this.options.maxClientCnxns > 0 && count >= this.options.maxClientCnxns) {
      this.logger.warn({ ip, max: this.options.maxClientCnxns }, `Too many connections from ${ip} - max is ${this.options.maxClientCnxns}`);
      this.stats.rejectedConnections++;
      socket.destroy();
      return;
    }
    this.connsByIp.set(ip, count + 1);
    this.metrics.counters.connection_request_count++;
    const conn = new ClientConnection(socket, this, this.clock.wallNow(), this.options.handshakeTimeoutMs);
    conn.authIds.push(...ids);
    this.connections.set(conn.id, conn);
  }

  onClosed(conn: ClientConnection, reason: string): void {
    if (!this.connections.delete(conn.id)) return;
    const ip = conn.remoteAddress;
    const n = (this.connsByIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.connsByIp.delete(ip);
    else this.connsByIp.set(ip, n);
    this.dirty.delete(conn);
    // Watches belong to the connection; the session lives on until it expires or is closed.
    this.watches.removeConnection(conn.id);
    if (conn.sessionId !== 0n && this.connBySession.get(conn.sessionId) === conn) this.connBySession.delete(conn.sessionId);
    // A client cut off for what it sent (a frame over jute.maxbuffer, bytes that do not decode) sees
    // only ConnectionLoss; ZooKeeper logs these at WARN, so the operator can tell why.
    if (/^(frame|protocol) error/.test(reason)) this.logger.warn({ conn: conn.id, session: hex(conn.sessionId), ip, reason }, 'closing connection: bad request from client');
    else this.logger.debug({ conn: conn.id, session: hex(conn.sessionId), reason }, 'connection closed');
  }

  markDirty(conn: ClientConnection): void {
    this.dirty.add(conn);
    this.scheduleFlush();
  }

  noteReply(latencyMs: number, opCode: number, bytes: number): void {
    this.stats.noteLatency(latencyMs);
    this.metrics.noteReply(hasTxn(opCode), latencyMs, bytes);
  }

  canPropose(): boolean {
    return this.zab.canPropose && !this.stopped;
  }

  onQueueDrained(conn: ClientConnection): void {
    conn.maybeResume(this.options.globalOutstandingLimit);
  }

  onPrelude(conn: ClientConnection, first4: number, rest: Buffer): 'fourLetter' | 'needMore' | 'protocol' {
    return this.fourLetter.onPrelude(conn, first4, rest);
  }

  // ---------------------------------------------------------------- handshake

  onConnectFrame(conn: ClientConnection, payload: Buffer): void {
    let req;
    try {
      req = readConnectRequest(new JuteReader(payload, 0, payload.length, { maxBufferBytes: this.maxFrameBytes }));
    } catch (err) {
      conn.destroy(`bad ConnectRequest: ${(err as Error).message}`);
      return;
    }
    if (!this.isServing) {
      // Not in a quorum: the client must try another server (ZooKeeper closes too).
      conn.destroy('server is not serving (no quorum)');
      return;
    }
    // A client that has seen a newer state than ours must try another server (no reply).
    if (req.lastZxidSeen > this.lastZxid()) {
      this.logger.info({ client: zxidHex(req.lastZxidSeen), ours: zxidHex(this.lastZxid()) }, 'client has seen a newer zxid; closing');
      conn.destroy('client lastZxidSeen ahead of server');
      return;
    }
    conn.clientSentReadOnly = req.readOnly !== undefined;
    conn.features = grantFeatures(req.features);
    const timeoutMs = negotiateTimeout(req.timeOut, {
      minSessionTimeoutMs: this.options.minSessionTimeoutMs,
      maxSessionTimeoutMs: this.options.maxSessionTimeoutMs,
    });
    if (this.contactAgeMs() >= contactLimitMs(timeoutMs)) {
      conn.destroy('no recent round trip with the leader');
      return;
    }
    if (req.sessionId === 0n) this.createSession(conn, timeoutMs);
    else this.resumeSession(conn, req.sessionId, req.passwd, timeoutMs);
  }

  private writeConnectResponse(out: JuteWriter, conn: ClientConnection, timeOut: number, sessionId: bigint, passwd: Buffer): void {
    out.beginFrame();
    writeConnectResponse(out, {
      protocolVersion: 0,
      timeOut,
      sessionId,
      passwd,
      readOnly: conn.clientSentReadOnly ? false : undefined,
      ...(conn.features !== undefined ? { features: conn.features } : {}),
    });
    out.endFrame();
  }

  private createSession(conn: ClientConnection, timeoutMs: number): void {
    const sessionId = this.idGen.next();
    const passwd = this.rng.bytes(16);
    conn.sessionId = sessionId;
    conn.timeoutMs = timeoutMs;
    this.connBySession.set(sessionId, conn);
    const pending: PendingRequest = { xid: 0, opCode: OpCode.createSession, receivedAt: this.clock.wallNow() };
    conn.enqueue(pending, Number.MAX_SAFE_INTEGER);
    const respond = (out: JuteWriter) => this.writeConnectResponse(out, conn, timeoutMs, sessionId, passwd);
    if (!this.zab.canPropose) {
      this.forward(conn, pending, awaitKey(sessionId, 'create'), { kind: 'createSession', sessionId, timeoutMs, passwd }, respond);
      return;
    }
    const zxid = this.zab.nextZxid();
    if (this.options.ensemble) this.sessionOwner.set(sessionId, this.myId);
    const txn = this.prep.prepCreateSession({ sessionId, timeoutMs, passwd }, { zxid, now: BigInt(this.clock.wallNow()) });
    this.propose(txn, {
      conn,
      pending,
      respond: (out) => this.writeConnectResponse(out, conn, timeoutMs, sessionId, passwd),
    });
  }

  private resumeSession(conn: ClientConnection, sessionId: bigint, passwd: Buffer | null, timeoutMs: number): void {
    const session = this.db.sessions.get(sessionId);
    const passwdOk = session !== undefined && passwd !== null && session.passwd.equals(passwd);
    if (!this.options.ensemble || this.zab.canPropose) {
      if (!passwdOk) return this.refuseSession(conn, sessionId, session ? 'wrong password' : 'unknown session');
      if (!this.sessions.touch(sessionId, this.clock.now())) return this.refuseSession(conn, sessionId, 'expired');
      if (this.options.ensemble) this.sessionOwner.set(sessionId, this.myId);
      return this.attachSession(conn, sessionId, timeoutMs, session.passwd);
    }
    if (this.shellBugs.followerAnswersBeforeRevalidation) {
      if (!passwdOk || !this.sessions.touch(sessionId, this.clock.now())) return this.refuseSession(conn, sessionId, 'unknown, expired or wrong password');
      this.zab.sendToLeader({ type: 'revalidate', sessionId, timeoutMs, valid: false });
      return this.attachSession(conn, sessionId, timeoutMs, session.passwd);
    }
    // A learner's own view decides only a wrong password. Whether the session is alive is the
    // leader's call, as ZooKeeper's Learner.validateSession: the close may not have reached us yet,
    // and a session we do not know (or whose expiry we never tracked) may be one we have not
    // applied yet — a SNAP'ed or restarted learner, one still behind the COMMIT of its
    // createSession — which the client, told it was created, may rightly resume here.
    if (passwd === null || (session !== undefined && !passwdOk)) return this.refuseSession(conn, sessionId, 'wrong password');
    if (!this.zab.sendToLeader({ type: 'revalidate', sessionId, timeoutMs, valid: false })) {
      conn.destroy('no leader to revalidate the session with');
      return;
    }
    const earlier = this.revalidating.get(sessionId);
    if (earlier && earlier.conn !== conn) earlier.conn.destroy('session resumed on a newer connection');
    // A copy: the request's bytes may be a view of a read buffer that is reused meanwhile.
    this.revalidating.set(sessionId, { conn, timeoutMs, passwd: Buffer.from(passwd) });
  }

  /** Unknown, expired or wrong password: the client sees SESSION_EXPIRED. Never attach. */
  private refuseSession(conn: ClientConnection, sessionId: bigint, why: string): void {
    this.logger.info({ session: hex(sessionId), why }, 'session resumption refused');
    this.writeConnectResponse(conn.out, conn, 0, 0n, EXPIRED_PASSWD);
    conn.closeAfterReplies();
  }

  private attachSession(conn: ClientConnection, sessionId: bigint, timeoutMs: number, passwd: Buffer): void {
    const previous = this.connBySession.get(sessionId);
    if (previous && previous !== conn) previous.destroy('session moved to a new connection');
    conn.sessionId = sessionId;
    conn.timeoutMs = timeoutMs;
    this.connBySession.set(sessionId, conn);
    this.sessions.add(sessionId, timeoutMs, this.clock.now());
    if (this.options.ensemble) this.touched.add(sessionId);
    this.enqueue(conn, 0, OpCode.createSession, (out) => this.writeConnectResponse(out, conn, timeoutMs, sessionId, passwd));
  }

  /**
   * REVALIDATE. Leader: a client resumed `sessionId` on learner `from`; valid unless the session is
   * gone or being closed, and then `from` owns it (requests through any other server now fail).
   * Learner: the leader's verdict on a session a client is waiting to resume here.
   */
  private onRevalidate(from: number, msg: MessageOf<'revalidate'>): void {
    const sid = msg.sessionId;
    if (this.zab.canPropose) {
      // SessionTrackerImpl.touchSession: a session expiry has taken out of the tracker, or whose
      // close is proposed, stays dead even though the close has not been applied yet.
      const valid = this.db.sessions.has(sid) && this.sessions.touch(sid, this.clock.now());
      if (valid) this.sessionOwner.set(sid, from);
      this.zab.sendToLearner(from, { ...msg, valid });
      return;
    }
    const p = this.revalidating.get(sid);
    if (!p || from !== this.zab.leaderId()) return;
    this.revalidating.delete(sid);
    if (!this.connections.has(p.conn.id)) return;
    if (!msg.valid) return this.refuseSession(p.conn, sid, 'expired (the leader says)');
    // The leader's verdict follows the COMMIT of the session's createSession on this link, so a
    // session it calls valid is applied here by now: check the password the client offered.
    const session = this.db.sessions.get(sid);
    if (!session) return this.refuseSession(p.conn, sid, 'unknown here although the leader knows it');
    if (!session.passwd.equals(p.passwd)) return this.refuseSession(p.conn, sid, 'wrong password (checked after the leader answered)');
    this.attachSession(p.conn, sid, p.timeoutMs, session.passwd);
  }

  // ---------------------------------------------------------------- requests

  onRequestFrame(conn: ClientConnection, payload: Buffer): void {
    const now = this.clock.wallNow();
    const r = new JuteReader(payload, 0, payload.length, { maxBufferBytes: this.maxFrameBytes });
    let header;
    try {
      header = readRequestHeader(r);
    } catch {
      conn.destroy('frame shorter than a RequestHeader');
      return;
    }
    this.stats.packetsReceived++;
    this.metrics.counters.bytes_received_count += payload.length + 4;
    conn.stats.lastCxid = header.xid;
    conn.stats.lastOp = fourLetterOpName(header.type);
    if (conn.sessionId !== 0n) {
      this.sessions.touch(conn.sessionId, this.clock.now());
      if (this.options.ensemble) this.touched.add(conn.sessionId);
    }
    try {
      this.dispatch(conn, header.xid, header.type, r, payload, now);
    } catch (err) {
      if (!(err instanceof JuteDecodeError)) throw err;
      // A read-side body that fails to decode: MarshallingError, connection stays open.
      this.enqueue(conn, header.xid, header.type, (out) => writeReply(out, header.xid, this.lastZxid(), ErrorCode.marshallingError));
    }
  }

  private dispatch(conn: ClientConnection, xid: number, opCode: number, r: JuteReader, payload: Buffer, now: number): void {
    if (!this.clientSecurity.mayRequest(conn.authIds, opCode)) {
      // enforce.auth: an unauthenticated request is answered -124 and the connection closes (3.7+).
      this.logger.warn({ remote: conn.remoteAddress, schemes: conn.authIds.map((i) => i.scheme) }, 'request from an unauthenticated connection under enforce.auth; closing');
      this.enqueue(conn, xid, opCode, (out) => writeReply(out, xid, 0n, ErrorCode.sessionClosedRequireSaslAuth), { closeAfter: true });
      return;
    }
    const connOp = connOpTable.get(opCode);
    if (connOp) {
      connOp.handle(this, conn, xid, r);
      return;
    }
    const op = opTable.get(opCode);
    if (!op || op.kind === 'standaloneCheck') {
      // Unknown opcode (and `check` outside multi): Unimplemented, then close, as ZooKeeper's
      // UnimplementedRequestProcessor does. Nothing is logged as a txn.
      this.enqueue(conn, xid, opCode, (out) => writeReply(out, xid, -1n, ErrorCode.unimplemented), { closeAfter: true });
      return;
    }
    if (op.kind === 'read') {
      const req = op.decode(r);
      const caller = { sessionId: conn.sessionId, authIds: conn.authIds as readonly Id[] };
      this.enqueue(conn, xid, opCode, (out) => {
        const outcome = op.run(this.db, req, caller);
        // The op decides whether a watch is left (exists leaves one on NoNode, getData does not).
        if (outcome.watch) this.watches.add(conn.id, outcome.watch.path, outcome.watch.kind);
        writeReply(out, xid, this.lastZxid(), outcome.err, outcome.encode);
      });
      return;
    }
    const respond = (out: JuteWriter, result: unknown, txn: Txn) => {
      const { err, body: encodeBody } = op.reply(result as never);
      writeReply(out, xid, txn.zxid, err, encodeBody);
    };
    if (!this.zab.canPropose) {
      // A learner: the leader preps every txn. The raw body travels; the answer comes back as the
      // committed txn, matched by session id and cxid.
      const pending: PendingRequest = { xid, opCode, receivedAt: now };
      if (this.operations?.audit) pending.audit = describeRequestBytes(op, payload, r.offset, this.maxFrameBytes);
      conn.enqueue(pending, this.options.globalOutstandingLimit);
      const body = Buffer.from(payload.subarray(r.offset));
      this.forward(conn, pending, awaitKey(conn.sessionId, xid), { kind: 'write', sessionId: conn.sessionId, cxid: xid, opCode, body, authIds: conn.authIds }, respond);
      return;
    }
    // A write: prep decides everything now (against the tree plus changes still in flight), the
    // txn takes a zxid even if it failed, and the reply is built when it is applied.
    let body: unknown;
    try {
      body = op.decode(r);
    } catch (err) {
      if (!(err instanceof JuteDecodeError)) throw err;
      body = err;
    }
    const pending: PendingRequest = { xid, opCode, receivedAt: now };
    if (this.operations?.audit) pending.audit = describeRequest(opCode, body);
    conn.enqueue(pending, this.options.globalOutstandingLimit);
    const txn = this.prepWrite(opCode, body, conn.sessionId, conn.authIds, xid, this.myId, now);
    this.propose(txn, { conn, pending, respond: (out, result) => respond(out, result, txn) });
  }

  /**
   * Leader side of every client write, local or forwarded. A session that has moved to another
   * server may not write through its old one: that request becomes a SessionMoved error txn
   * (ZooKeeper's checkSession with an owner), so a stale connection can never act for the session.
   */
  private prepWrite(opCode: number, body: unknown, sessionId: bigint, authIds: readonly Id[], cxid: number, via: number, now: number): Txn {
    const zxid = this.zab.nextZxid();
    const owner = this.sessionOwner.get(sessionId);
    if (owner !== undefined && owner !== via) {
      return { zxid, sessionId, cxid, time: BigInt(now), body: { type: 'error', err: ErrorCode.sessionMoved } };
    }
    const txn = this.prep.prep(
      { opCode, body },
      { zxid, now: BigInt(now), session: { id: sessionId, authIds }, ttlEnabled: this.options.ttlEnabled, superDigest: this.options.superDigest, cxid, aclSchemes: this.clientSecurity.aclSchemes, enforceQuota: this.options.operations?.enforceQuota },
    );
    const overQuota = quotaRejectedPath(opCode, body, txn);
    if (overQuota !== undefined) noteQuotaExceeded(this, overQuota, now);
    return txn;
  }

  /** Learner side: sends a request to the leader and parks the client's slot until it commits. */
  private forward(conn: ClientConnection, pending: PendingRequest, key: string, f: Forward, respond: Awaiting['respond']): void {
    if (!this.zab.sendToLeader({ type: 'request', data: encodeForward(f) })) {
      conn.destroy('no leader to forward to');
      return;
    }
    this.awaiting.set(key, { conn, pending, respond });
  }

  /** Milliseconds since this server last knew its leader hears it (0 on the leader; Infinity when not serving). */
  private contactAgeMs(): number {
    return this.options.ensemble ? this.zab.contactAge() * this.coreTickMs : 0;
  }

  /**
   * A follower cut off from its leader (in either direction) disconnects each client once it has
   * gone a quarter of that client's session timeout without a confirmed round trip, long before
   * the leader could expire the session (contactLimitMs): the client hears Disconnected and moves
   * to a server that has a quorum, so a lock holder never outlives its lock unknowingly.
   */
  private checkContact(): void {
    const age = this.contactAgeMs();
    if (age === 0 || !this.serving) return;
    for (const c of [...this.connections.values()]) {
      if (c.sessionId !== 0n && age >= contactLimitMs(c.timeoutMs)) c.destroy('no recent round trip with the leader');
    }
  }

  /** Learner: tells the leader which sessions are alive (ZooKeeper piggybacks this on PINGs). */
  private reportTouches(): void {
    if (!this.options.ensemble || this.zab.canPropose || this.touched.size === 0) return;
    const sessions = [...this.touched];
    this.touched.clear();
    this.zab.sendToLeader({ type: 'request', data: encodeForward({ kind: 'touch', sessions }) });
  }

  enqueue(
    conn: ClientConnection,
    xid: number,
    opCode: number,
    exec: (out: JuteWriter) => void,
    opts: { barrierZxid?: bigint; closeAfter?: boolean } = {},
  ): void {
    const now = this.clock.wallNow();
    conn.enqueue({ xid, opCode, receivedAt: now, exec, ...opts }, this.options.globalOutstandingLimit);
    conn.drain(now, this.zab.lastCommittedZxid());
  }

  /**
   * sync (ZOOKEEPER-1675: a quorum round trip, not a local no-op). The leader's core answers with
   * how far it has proposed, but only once a quorum has confirmed it still leads after the request
   * arrived, so a deposed leader never answers from stale data; this server then waits until it
   * has applied that far. Standalone the quorum is this server: answered at once.
   */
  sync(conn: ClientConnection, xid: number, exec: (out: JuteWriter) => void): void {
    this.barrierWaiting.add(conn);
    const pending: PendingRequest = { xid, opCode: OpCode.sync, receivedAt: this.clock.wallNow(), exec, barrierZxid: 1n << 62n };
    conn.enqueue(pending, this.options.globalOutstandingLimit);
    if (!this.zab.requestSync()) {
      conn.destroy('no quorum for sync');
      return;
    }
    this.syncWaiters.push(pending);
  }

  nodeVersionInfo(path: string): { mzxid: bigint; pzxid: bigint; acl: readonly ACL[] } | undefined {
    const node = this.db.tree.get(path);
    return node ? { mzxid: node.stat.mzxid, pzxid: node.stat.pzxid, acl: node.acl } : undefined;
  }

  /** Watch delivery filter: the connection's auth ids must give READ on the node (CVE-2024-23944). */
  readonly mayRead = (connId: number, acl: readonly ACL[]): boolean => {
    const conn = this.connections.get(connId);
    return conn !== undefined && checkAcl(acl, Perms.read, conn.authIds);
  };

  /** A detailed notification's Stat and data, read only for connections that negotiated them. */
  private readonly details: DetailLookup = (d) => eventDetail(this.db.tree, d);

  authenticate(scheme: string, auth: Buffer | null): Id[] | undefined {
    const sec = this.clientSecurity.config;
    return authenticate(scheme, auth ?? Buffer.alloc(0), this.options.superDigest, { enabled: sec.digestEnabled, alg: sec.digestAlg });
  }

  closeSession(conn: ClientConnection, xid: number): void {
    const pending: PendingRequest = { xid, opCode: OpCode.closeSession, receivedAt: this.clock.wallNow(), closeAfter: true };
    conn.enqueue(pending, Number.MAX_SAFE_INTEGER);
    this.sessions.setClosing(conn.sessionId);
    if (!this.zab.canPropose) {
      this.forward(conn, pending, awaitKey(conn.sessionId, 'close'), { kind: 'closeSession', sessionId: conn.sessionId }, (out) => writeReply(out, xid, this.lastZxid(), ErrorCode.ok));
      return;
    }
    this.proposeCloseSession(conn.sessionId, {
      conn,
      pending,
      respond: (out) => writeReply(out, xid, this.lastZxid(), ErrorCode.ok),
    });
  }

  /** Session expiry (from housekeeping): a closeSession txn decided here, replayed everywhere. */
  expireSession(sessionId: bigint): void {
    this.logger.info({ session: hex(sessionId) }, 'session expired');
    // Planted (followerExpiresSessions): a follower that decided on its own view asks the leader.
    if (!this.zab.canPropose) return void this.zab.sendToLeader({ type: 'request', data: encodeForward({ kind: 'closeSession', sessionId }) });
    this.proposeCloseSession(sessionId, {});
  }

  /** Housekeeping: only the leader expires sessions (followerExpiresSessions plants the opposite). */
  decidesExpiry(): boolean {
    return this.canPropose() || (this.shellBugs.followerExpiresSessions === true && this.serving);
  }

  private proposeCloseSession(sessionId: bigint, inflight: Omit<InFlight, 'txn'>): void {
    const txn = this.prep.prepCloseSession(sessionId, { zxid: this.zab.nextZxid(), now: BigInt(this.clock.wallNow()) });
    this.propose(txn, inflight);
  }

  /** Internal deletes of empty containers and expired TTL nodes (ContainerManager's job). */
  submitInternalWrite(opCode: number, body: unknown): void {
    const txn = this.prep.prep(
      { opCode, body },
      {
        zxid: this.zab.nextZxid(),
        now: BigInt(this.clock.wallNow()),
        session: { id: 0n, authIds: [{ scheme: 'super', id: '' }] },
        ttlEnabled: this.options.ttlEnabled,
        superDigest: this.options.superDigest,
      },
    );
    this.propose(txn, {});
  }

  // ---------------------------------------------------------------- write path

  private propose(txn: Txn, inflight: Omit<InFlight, 'txn'>): void {
    this.inFlight.set(txn.zxid, { txn, ...inflight, proposedAt: this.clock.now() });
    const data = encodeTxn(txn);
    const ps = this.proposalSizes;
    ps.last = data.length;
    ps.min = ps.min < 0 ? data.length : Math.min(ps.min, data.length);
    ps.max = Math.max(ps.max, data.length);
    this.zab.propose({ zxid: txn.zxid, data });
    this.observer.proposed?.(txn);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.stopped) return;
    this.flushScheduled = true;
    // setImmediate runs after the poll phase: every socket that was readable this turn has been
    // parsed, so one storage transaction covers all of them (group commit).
    this.clock.setImmediate(() => this.flush());
  }

  private flush(): void {
    timed('commit batch', () => this.flushNow());
  }

  private flushNow(): void {
    this.flushScheduled = false;
    if (this.stopped) return;
    try {
      this.zab.flush();
      for (const conn of this.dirty) conn.flushOutput();
      this.dirty.clear();
      // A snapshot due now is written here: its store error is a fail-stop too, never thrown out
      // of this setImmediate callback.
      this.housekeeping.afterFlush();
    } catch (err) {
      this.fail(err as Error);
    }
  }

  /** Called by the replicator with committed entries in zxid order (every server applies them). */
  applyCommitted(entries: readonly LogEntry[]): void {
    timed(`apply ${entries.length} txns`, () => this.applyEntries(entries));
  }

  private applyEntries(entries: readonly LogEntry[]): void {
    const now = this.clock.wallNow();
    this.stats.noteBatch(entries.length);
    for (const entry of entries) {
      // Entries at or below what is applied (a snapshot we just loaded covers them) are skipped.
      if (entry.zxid <= this.db.lastProcessedZxid) continue;
      const inflight = this.inFlight.get(entry.zxid);
      if (inflight) this.inFlight.delete(entry.zxid);
      if (inflight?.proposedAt !== undefined && this.options.ensemble) this.metrics.quorum_ack_latency.add(this.clock.now() - inflight.proposedAt);
      this.applyOne(inflight ?? { txn: decodeTxn(entry.data) }, now);
    }
    this.drainBarriers(now);
  }

  private drainBarriers(now: number): void {
    if (this.barrierWaiting.size === 0) return;
    const committed = this.zab.lastCommittedZxid();
    for (const c of this.barrierWaiting) {
      c.drain(now, committed);
      if (!c.isOpen || !c.queue.some((p) => p.barrierZxid !== undefined)) this.barrierWaiting.delete(c);
    }
  }

  private applyOne(inflight: InFlight, now: number): void {
    const { txn } = inflight;
    const { result, events } = applyTxn(this.db, txn);
    this.observer.applied?.(txn, this.db, events);
    this.prep.committed(txn.zxid);
    this.operations?.audit?.applied(txn, result, events, inflight.conn, inflight.pending);
    this.housekeeping.noteTxn(txn.zxid);
    this.afterSessionTxn(txn);
    // Notifications first: a client must see the watch event before any reply showing the change.
    const notify = (): void => {
      if (events.length === 0) return;
      this.history.recordApplied(this.db.tree, events);
      this.deliver(this.watches.trigger(events, this.mayRead), this.details);
    };
    if (this.shellBugs.watchAfterReply) {
      this.reply(inflight, result, now); // planted: the reply overtakes the watch events
      return notify();
    }
    notify();
    this.reply(inflight, result, now);
  }

  private reply(inflight: InFlight, result: ApplyResult, now: number): void {
    const { txn, conn, pending, respond } = inflight;
    if (conn && pending && respond && conn.isOpen) {
      settle(pending, txn, (out) => respond(out, result));
      conn.drain(now, txn.zxid);
      return;
    }
    this.answerForwarded(txn, result, now);
  }

  /** Learner side: the txn for a request we forwarded has committed; answer it in FIFO order. */
  private answerForwarded(txn: Txn, result: unknown, now: number): void {
    if (this.awaiting.size === 0) return;
    const type = txn.body.type;
    const key = awaitKey(txn.sessionId, type === 'createSession' ? 'create' : type === 'closeSession' && txn.cxid === 0 ? 'close' : txn.cxid);
    const waiting = this.awaiting.get(key);
    if (!waiting) return;
    this.awaiting.delete(key);
    this.operations?.audit?.applied(txn, result as ApplyResult, [], waiting.conn, waiting.pending);
    if (!waiting.conn.isOpen) return;
    settle(waiting.pending, txn, (out) => waiting.respond(out, result, txn));
    waiting.conn.drain(now, txn.zxid);
  }

  // ---------------------------------------------------------------- ensemble (ZabHost)

  /** A SNAP is durable: swap in the tree decoded while it streamed (or load it from the store). */
  installSnapshot(zxid: bigint, data: Buffer): void {
    const db = this.snapSync?.takePrepared(data) ?? loadSnapshot(this.store, { zxid, ...decodeSnapshotRef(data) });
    if (db.lastProcessedZxid !== zxid) throw new Error(`SNAP at ${zxidHex(zxid)} holds state at ${zxidHex(db.lastProcessedZxid)}`);
    this.db = db;
    this.prep = new Prep(db);
    for (const sid of db.sessions.keys()) this.idGen.observe(sid);
    this.history.reset(zxid); // events before the snapshot were never applied here
    this.publishEnsembleConfig();
    this.observer.snapshotInstalled?.(zxid, db);
    this.logger.info({ zxid: zxidHex(zxid), nodes: db.tree.nodeCount }, 'loaded snapshot from leader');
  }

  /**
   * Every member writes the same static membership into /zookeeper/config locally (it is config,
   * not a txn; all members have the same text, so their trees stay identical).
   */
  private publishEnsembleConfig(): void {
    const e = this.options.ensemble;
    if (e && this.db.tree.has('/zookeeper/config')) this.db.tree.replaceValue('/zookeeper/config', Buffer.from(ensembleConfigText(e.servers, e.configVersion)));
  }

  /** Resolves once the core reaches broadcast (a standalone server's log is then all applied); rejects on a fatal error first. */
  private untilServing(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const settle = (): void => {
        if (!this.fatalError && !this.serving) return;
        this.off('serving', settle);
        this.off('fatal', settle);
        if (this.fatalError) reject(this.fatalError);
        else resolve();
      };
      this.on('serving', settle);
      this.on('fatal', settle);
      settle();
    });
  }

  onRoleEvent(ev: RoleEvent): void {
    const wasServing = this.serving;
    this.role = ev;
    this.observer.role?.(ev);
    this.metrics.noteRole(ev, this.clock.wallNow());
    this.serving = ev.phase === 'broadcast';
    if (this.serving && !wasServing) this.emit('serving');
    this.logger.info({ role: ev.role, phase: ev.phase, leader: ev.leader, epoch: ev.epoch }, 'quorum role changed');
    if (ev.role === 'leading' && ev.phase === 'broadcast') {
      this.leaderSince = this.clock.wallNow();
      this.becomeLeader();
    }
    if (wasServing && !this.serving) this.dropClients('lost the quorum');
  }

  /** A new leader decides everything from its own applied state: fresh prep, sessions re-armed. */
  private becomeLeader(): void {
    this.prep = new Prep(this.db);
    // Ownership is re-learned from the learners' claims; until then any server may act for a session.
    this.sessionOwner.clear();
    const now = this.clock.now();
    for (const [sid, s] of this.db.sessions) {
      this.idGen.observe(sid);
      if (!this.sessions.has(sid)) this.sessions.add(sid, s.timeoutMs, now);
      else this.sessions.touch(sid, now);
    }
  }

  /**
   * Leaving the quorum: every client is disconnected so it reconnects to a server that can serve
   * it (its session lives on). Requests forwarded to a dead leader can never be answered.
   */
  private dropClients(reason: string): void {
    this.logger.warn({ clients: this.connections.size, reason }, 'closing client connections');
    for (const c of [...this.connections.values()]) c.destroy(reason);
    this.awaiting.clear();
    this.revalidating.clear();
    this.syncWaiters.length = 0;
    this.inFlight.clear();
  }

  onForwarded(from: number, msg: PeerMessage): void {
    if (msg.type === 'revalidate') return this.onRevalidate(from, msg);
    if (msg.type !== 'request' || !this.zab.canPropose) return;
    let f: Forward;
    try {
      f = decodeForward(msg.data);
    } catch (err) {
      this.logger.warn({ peer: from, err: (err as Error).message }, 'malformed forwarded request');
      return;
    }
    const now = this.clock.wallNow();
    switch (f.kind) {
      case 'write':
        return this.prepForwardedWrite(f, from, now);
      case 'createSession': {
        this.sessionOwner.set(f.sessionId, from);
        const txn = this.prep.prepCreateSession({ sessionId: f.sessionId, timeoutMs: f.timeoutMs, passwd: f.passwd }, { zxid: this.zab.nextZxid(), now: BigInt(now) });
        this.idGen.observe(f.sessionId);
        return this.propose(txn, {});
      }
      case 'closeSession':
        // A server the session has moved away from may not close it (followerExpiresSessions, a
        // planted bug, trusts any follower's verdict).
        if ((this.sessionOwner.get(f.sessionId) ?? from) !== from && !this.shellBugs.followerExpiresSessions) return;
        this.sessions.setClosing(f.sessionId);
        return this.proposeCloseSession(f.sessionId, {});
      case 'touch': {
        const at = this.clock.now();
        for (const sid of f.sessions) {
          const s = this.db.sessions.get(sid);
          if (s && !this.sessions.touch(sid, at) && !this.sessions.isClosing(sid)) this.sessions.add(sid, s.timeoutMs, at);
        }
        return;
      }
    }
  }

  private prepForwardedWrite(f: Extract<Forward, { kind: 'write' }>, from: number, now: number): void {
    const op = opTable.get(f.opCode);
    if (!op || op.kind !== 'write') return;
    let body: unknown;
    try {
      body = op.decode(new JuteReader(f.body, 0, f.body.length, { maxBufferBytes: this.maxFrameBytes }));
    } catch (err) {
      if (!(err instanceof JuteDecodeError)) throw err;
      body = err;
    }
    this.propose(this.prepWrite(f.opCode, body, f.sessionId, f.authIds, f.cxid, from, now), {});
  }

  afterReady(): void {
    for (const conn of this.dirty) conn.flushOutput();
    this.dirty.clear();
    this.housekeeping.afterFlush();
  }

  snapshotSaved(zxid: bigint): void {
    this.zab.compactLog(zxid);
  }

  /** The quorum answered the oldest waiting sync: it completes once this server has applied that far. */
  onSyncAnswer(zxid: bigint): void {
    const pending = this.syncWaiters.shift();
    if (!pending) return;
    pending.barrierZxid = zxid;
    this.drainBarriers(this.clock.wallNow());
  }

  /** Keeps the expiry tracker and connection map in step with session txns. */
  private afterSessionTxn(txn: Txn): void {
    if (txn.body.type === 'createSession') {
      // Ids this server minted before a restart may reach it only now (its log is replayed after
      // the sync, a SNAP brings others): never mint a live one again (sim seed 61).
      this.idGen.observe(txn.sessionId);
      this.sessions.add(txn.sessionId, txn.body.timeoutMs, this.clock.now());
    } else if (txn.body.type === 'closeSession') {
      this.sessions.remove(txn.sessionId);
      this.sessionOwner.delete(txn.sessionId);
      const conn = this.connBySession.get(txn.sessionId);
      this.connBySession.delete(txn.sessionId);
      // An expired session's connection is closed; a client-requested close closes after its reply.
      if (conn && !conn.closing) conn.closeAfterReplies();
    }
  }

  deliver(deliveries: readonly { conn: number; type: number; path: string; zxid: bigint }[], detail?: DetailLookup): void {
    for (const d of deliveries) {
      const conn = this.connections.get(d.conn);
      if (!conn || !conn.isOpen) continue;
      if (hasFeature(conn.features, Feature.resumableWatches)) writeDetailedNotification(conn.out, d, detail?.(d));
      else writeNotification(conn.out, d.type, d.path, d.zxid, this.options.notificationZxid);
      this.stats.notificationsSent++;
      this.markDirty(conn);
    }
  }

  // ---------------------------------------------------------------- lifecycle

  onIgnored(ignored: ReadonlyArray<{ from: number; type: string; why: string }>): void {
    this.observer.ignored?.(ignored);
  }

  /** ZabHost: the replication driver hit a store error (or a broken invariant) and stopped. */
  onFatal(err: Error): void {
    this.fail(err);
  }

  /**
   * Fail-stop: a storage error means nothing more may be acknowledged. Logs, closes every client
   * connection and the listener, stops replication, then emits 'fatal' (the CLI exits with code 2).
   */
  private fail(err: Error): void {
    if (this.fatalError) return;
    this.fatalError = err;
    this.metrics.counters.unrecoverable_error_count++;
    this.logger.fatal({ err }, err instanceof StorageFatalError ? 'storage failure; stopping' : 'fatal error; stopping');
    for (const c of [...this.connections.values()]) c.destroy('server stopping after a fatal error');
    void this.close();
    this.emit('fatal', err);
  }

  get fatal(): Error | undefined {
    return this.fatalError;
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    const operationsClosed = this.operations?.close();
    // Graceful order (as zkServer.sh stop expects): stop accepting, finish the group commit that is
    // in flight, send its replies, then drop connections. Sessions are NOT closed: clients resume
    // them on another server or after restart, and their ephemerals stay.
    const closed = new Promise<void>((resolve) => this.listener.close(() => resolve()));
    const secureClosed = this.clientSecurity.close();
    for (const c of this.connections.values()) c.socket.pause();
    if (!this.fatalError) this.flush();
    this.stopped = true;
    const snapshotStopped = this.housekeeping.stop();
    this.touchTimer?.cancel();
    if (this.measuresLoopLag) loopLag.stop();
    this.zab.stop();
    await this.ensembleShutdown?.();
    for (const c of [...this.connections.values()]) c.destroy('server shutting down', false);
    await closed;
    await operationsClosed;
    await secureClosed;
    await snapshotStopped;
    try {
      this.store.close();
      await this.store.closed();
    } catch (err) {
      this.logger.warn({ err }, 'store close failed');
    }
    this.logger.info('server stopped');
  }
}

/** Requests that become txns (ZooKeeper's updatelatency); everything else counts as a read. */
const TXN_OPCODES: ReadonlySet<number> = new Set([
  ...[...opTable].filter(([, op]) => op.kind === 'write').map(([code]) => code),
  OpCode.createSession,
  OpCode.closeSession,
]);

function hasTxn(opCode: number): boolean {
  return TXN_OPCODES.has(opCode);
}

function hex(v: bigint): string {
  return '0x' + v.toString(16);
}
