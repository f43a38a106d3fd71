/**
 * ZkClient: a promise-first ZooKeeper client over WireConnection.
 *
 * Session model (Curator's, see CLIENT.md §1.3):
 * - The client keeps one session across connections: on a dropped connection it emits `suspended`
 *   and reconnects to any host with sessionId + passwd + lastZxidSeen, then emits `reconnected`.
 * - If the session timeout passes without a reconnect, it emits `lost` on its own (the server
 *   cannot tell a partitioned client), and a server that answers "expired" also yields `lost`.
 *   After `lost` the client opens a NEW session and emits `reconnected` once it has one: ephemerals
 *   and locks from the old session must be treated as gone.
 * - Operations issued while disconnected wait for the connection (they are rejected with
 *   SessionExpiredError on `lost`, ClientClosedError on close). An operation in flight when the
 *   connection drops rejects with ConnectionLossError: its outcome is unknown. Nothing is retried
 *   unless a retry policy is given (retry.ts; ClientOptions.retryPolicy or a call's `retry`).
 * - One-shot watches are kept across reconnects and re-armed with SetWatches/SetWatches2 relative
 *   to lastZxidSeen, so changes made while disconnected fire exactly once. They resolve (never
 *   reject) with a `type: 'none'` event on `lost` or close. Persistent watches survive even `lost`.
 */
import { EventEmitter } from 'node:events';
import { randomBytes, randomUUID } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import {
  AddWatchMode,
  CreateFlags,
  ErrorCode,
  OpCode,
  WatcherType,
  Xid,
} from '../../protocol/jute/constants';
import { OPEN_ACL_UNSAFE, type ACL, type ClientInfo, type Stat } from '../../protocol/jute/data';
import type { JuteReader } from '../../protocol/jute/reader';
import type { JuteWriter } from '../../protocol/jute/writer';
import * as rec from '../../protocol/jute/records';
import { readMultiResponse, writeMultiRequest, type MultiOp, type OpResult } from '../../protocol/jute/multi';
import { CLIENT_PORT_SASL, DigestMd5Client, SaslError } from '../../protocol/sasl/digestMd5';
import { WireClosedError, WireConnection, type Notification, type WireReply } from './wire';
import {
  AbortError,
  AuthFailedError,
  ClientClosedError,
  ConnectionLossError,
  ConnectTimeoutError,
  NoNodeError,
  NodeExistsError,
  SessionExpiredError,
  ZkError,
  errorFromCode,
} from './errors';
import {
  fromServerPath,
  parentOf,
  parseConnectString,
  shuffled,
  toServerPath,
  joinPath,
  type HostPort,
} from './connectString';
import { BoundedStream } from './stream';
import { BoundedExponentialBackoff, isRetryable, retry, type RetryPolicy } from './retry';
import { Resumer } from './resume';
import { Feature } from '../../protocol/jute/extensions';
import { PersistentWatch, SEEN_ALL, WatchRegistry } from './watches';

export { PersistentWatch } from './watches';
import type {
  AddWatchOptions,
  CallOptions,
  ClientOptions,
  ClientTlsOptions,
  ConnectionState,
  CreateMode,
  CreateOptions,
  CreateResult,
  Data,
  DeleteOptions,
  MultiResult,
  ReadOp,
  ReadResult,
  SaslOptions,
  SaslOutcome,
  VersionOption,
  WatchOption,
  Watched,
  WatchedEvent,
  WatcherTypeName,
} from './types';

/** The request may or may not have been applied: the connection was lost, it timed out or was aborted in flight. */
function outcomeUnknown(err: unknown): boolean {
  return isRetryable(err) || err instanceof AbortError;
}

/** Curator's protected-name prefix: `_c_<uuid>-<name>`, so Curator recipes and ours agree. */
const PROTECTED_PREFIX = '_c_';
/** Retries of a protected create when neither the call nor the client names a policy. */
const PROTECTED_CREATE_POLICY = new BoundedExponentialBackoff(50, 1000, 29);
/** The Java client splits SetWatches at 128 KB of paths; so do we. */
const SET_WATCHES_BATCH_BYTES = 128 * 1024;
const CLOSE_SESSION_WAIT_MS = 2000;
/**
 * Background clean-up (guaranteed deletes, sweeps of protected creates that failed): retried for
 * as long as the client is open, backing off to one attempt a second.
 */
const BACKGROUND_POLICY: RetryPolicy = { delayMs: (n) => Math.min(50 * 2 ** Math.min(n, 5), 1000) };

function toBuffer(data: Data | undefined): Buffer | null {
  if (data === undefined || data === null) return null;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function modeFlags(mode: CreateMode): number {
  return CreateFlags[mode];
}
const isTTL = (mode: CreateMode): boolean => mode === 'persistentWithTTL' || mode === 'persistentSequentialWithTTL';

/** Rejects with AbortError when the signal fires first; the underlying promise is still observed. */
function withAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortError(signal.reason));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

interface ConnWaiter {
  resolve(c: WireConnection): void;
  reject(e: Error): void;
}

/**
 * A multi-op transaction builder: `zk.transaction().create(...).setData(...).commit()`.
 * commit() resolves with one result per op, or throws the typed error of the op that failed, with
 * `failedOpIndex` and `opErrors` set (nothing was applied).
 */
export class Transaction {
  private readonly ops: { op: MultiOp; path: string }[] = [];

  constructor(private readonly client: ZkClient) {}

  create(path: string, data?: Data, opts: Omit<CreateOptions, 'signal' | 'createParents'> = {}): this {
    const mode = opts.mode ?? 'persistent';
    const request = { path: this.client.serverPath(path), data: toBuffer(data), acl: opts.acl ?? OPEN_ACL_UNSAFE, flags: modeFlags(mode) };
    if (isTTL(mode)) {
      if (opts.ttlMs === undefined) throw new TypeError(`mode ${mode} needs ttlMs`);
      this.ops.push({ path, op: { type: OpCode.createTTL, request: { ...request, ttl: BigInt(opts.ttlMs) } } });
    } else {
      const type = mode === 'container' ? OpCode.createContainer : OpCode.create2;
      this.ops.push({ path, op: { type, request } });
    }
    return this;
  }

  delete(path: string, version = -1): this {
    this.ops.push({ path, op: { type: OpCode.delete, request: { path: this.client.serverPath(path), version } } });
    return this;
  }

  setData(path: string, data: Data, version = -1): this {
    this.ops.push({ path, op: { type: OpCode.setData, request: { path: this.client.serverPath(path), data: toBuffer(data), version } } });
    return this;
  }

  check(path: string, version: number): this {
    this.ops.push({ path, op: { type: OpCode.check, request: { path: this.client.serverPath(path), version } } });
    return this;
  }

  get size(): number {
    return this.ops.length;
  }

  commit(opts: CallOptions = {}): Promise<MultiResult[]> {
    return this.client.runMulti(this.ops, opts);
  }
}

export declare interface ZkClient {
  on(event: 'state', listener: (state: ConnectionState) => void): this;
  once(event: 'state', listener: (state: ConnectionState) => void): this;
  off(event: 'state', listener: (state: ConnectionState) => void): this;
  /** After each SASL login attempt (ClientOptions.sasl), before the state it leads to. */
  on(event: 'sasl', listener: (outcome: SaslOutcome) => void): this;
  once(event: 'sasl', listener: (outcome: SaslOutcome) => void): this;
  off(event: 'sasl', listener: (outcome: SaslOutcome) => void): this;
}

export class ZkClient extends EventEmitter {
  private readonly hosts: HostPort[];
  private readonly chroot: string;
  private readonly opts: Required<Omit<ClientOptions, 'auth' | 'connectTimeoutMs' | 'maxFrameBytes' | 'retryPolicy' | 'tls' | 'sasl'>> & Pick<ClientOptions, 'maxFrameBytes'>;
  private readonly tls: ConnectionOptions | undefined;
  private readonly sasl: SaslOptions | undefined;
  /** Set once a SASL login failed: the client is closed and every call rejects with it. */
  private authError: Error | undefined;
  private readonly resumer: Resumer;
  private readonly retryPolicy: RetryPolicy | undefined;
  private readonly connectTimeoutMs: number;
  private hostIndex = 0;
  private connHost: string | undefined;

  private sessionIdValue = 0n;
  private passwd: Buffer = Buffer.alloc(16);
  private negotiatedTimeoutMs = 0;
  private lastZxid = 0n;
  private auth: { scheme: string; auth: Buffer }[] = [];

  private conn: WireConnection | undefined;
  private current: ConnectionState | 'connecting' = 'connecting';
  private everConnected = false;
  private closingFlag = false;
  /** Aborted by close(): ends the background clean-up below. */
  private readonly closing = new AbortController();
  /** Paths with a background delete under way (a recipe retrying a guaranteed delete starts one, not one per attempt). */
  private readonly deletingInBackground = new Set<string>();
  private closed: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private readonly connWaiters = new Set<ConnWaiter>();
  private lostTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private sleepTimer: { timer: NodeJS.Timeout; wake(): void } | undefined;
  private lastSendMs = 0;
  /** SetWatches batches sent on the current connection and not yet answered. */
  private setWatchesPending = 0;
  private lastRecvMs = 0;

  private readonly watches: WatchRegistry;
  private readonly stateStreams = new Set<BoundedStream<ConnectionState>>();

  constructor(connectString: string, options: ClientOptions = {}) {
    super();
    const parsed = parseConnectString(connectString);
    const random = options.random ?? Math.random;
    this.hosts = options.shuffleHosts === false ? parsed.hosts : shuffled(parsed.hosts, random);
    this.chroot = parsed.chroot;
    this.watches = new WatchRegistry((p) => fromServerPath(this.chroot, p));
    this.opts = {
      sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000,
      canBeReadOnly: options.canBeReadOnly ?? false,
      shuffleHosts: options.shuffleHosts ?? true,
      random,
      reconnectDelayMs: options.reconnectDelayMs ?? 100,
      watchBufferSize: options.watchBufferSize ?? 1024,
      extensions: options.extensions ?? true,
      ...(options.maxFrameBytes !== undefined ? { maxFrameBytes: options.maxFrameBytes } : {}),
    };
    this.tls = options.tls ? nodeTlsOptions(options.tls) : undefined;
    if (options.sasl && (options.sasl.mechanism ?? 'DIGEST-MD5') !== 'DIGEST-MD5') throw new TypeError(`SASL mechanism ${String(options.sasl.mechanism)} is not supported (DIGEST-MD5 only)`);
    this.sasl = options.sasl;
    this.connectTimeoutMs = options.connectTimeoutMs ?? this.opts.sessionTimeoutMs;
    this.retryPolicy = options.retryPolicy;
    const frameBytes = options.maxFrameBytes ?? 0xfffff;
    this.resumer = new Resumer(
      { serverPath: (p) => this.serverPath(p), clientPath: (p) => this.clientPath(p), noteZxid: (z) => this.noteZxid(z) },
      Math.max(4096, Math.min(512 * 1024, Math.floor(frameBytes / 2))),
    );
    this.auth = (options.auth ?? []).map((a) => ({ scheme: a.scheme, auth: toBuffer(a.auth) ?? Buffer.alloc(0) }));
  }

  // ------------------------------------------------------------------ lifecycle and state

  /** Starts connecting (once) and resolves when the first session is established. */
  connect(opts: CallOptions = {}): Promise<this> {
    if (this.closingFlag) return Promise.reject(this.authError ?? new ClientClosedError());
    if (!this.loop) this.loop = this.run();
    return new Promise<this>((resolve, reject) => {
      if (this.conn) return resolve(this);
      const timer = setTimeout(() => {
        done();
        reject(new ConnectTimeoutError(`no ZooKeeper server reachable within ${this.connectTimeoutMs} ms (${this.hosts.map((h) => `${h.host}:${h.port}`).join(',')})`));
        void this.close();
      }, this.connectTimeoutMs);
      const onAbort = () => {
        done();
        reject(new AbortError(opts.signal?.reason));
      };
      const waiter: ConnWaiter = {
        resolve: () => {
          done();
          resolve(this);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      const done = () => {
        clearTimeout(timer);
        this.connWaiters.delete(waiter);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.connWaiters.add(waiter);
    });
  }

  /** The last state emitted ('connecting' before the first). */
  get state(): ConnectionState | 'connecting' {
    return this.current;
  }

  get sessionId(): bigint {
    return this.sessionIdValue;
  }

  /** The negotiated session timeout (0 before the first connection). */
  get sessionTimeoutMs(): number {
    return this.negotiatedTimeoutMs;
  }

  /** The session password (with sessionId, enough to resume the session elsewhere). */
  get sessionPasswd(): Buffer {
    return Buffer.from(this.passwd);
  }

  get lastZxidSeen(): bigint {
    return this.lastZxid;
  }

  /** `host:port` of the server we are connected to (undefined while disconnected). */
  get connectedHost(): string | undefined {
    return this.conn && !this.conn.isClosed ? this.connHost : undefined;
  }

  get isConnected(): boolean {
    return this.conn !== undefined && !this.conn.isClosed;
  }

  /** Connection states from now on, as an async iterator (ends after 'closed'). */
  states(opts: { bufferSize?: number; signal?: AbortSignal } = {}): AsyncIterableIterator<ConnectionState> {
    const stream: BoundedStream<ConnectionState> = new BoundedStream<ConnectionState>(
      opts.bufferSize ?? this.opts.watchBufferSize,
      'dropOldest',
      () => undefined,
      () => this.stateStreams.delete(stream),
    );
    if (this.closingFlag) stream.end();
    else this.stateStreams.add(stream);
    opts.signal?.addEventListener('abort', () => stream.end(), { once: true });
    return stream;
  }

  /** Closes the session (its ephemerals go) and the connection. Idempotent. */
  close(): Promise<void> {
    if (!this.closed) this.closed = this.shutdown();
    return this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async shutdown(): Promise<void> {
    this.closingFlag = true;
    this.closing.abort();
    this.clearTimers();
    const conn = this.conn;
    if (conn && !conn.isClosed) {
      const bye = conn.request(OpCode.closeSession).catch(() => undefined);
      let t: NodeJS.Timeout | undefined;
      await Promise.race([bye, new Promise((r) => (t = setTimeout(r, CLOSE_SESSION_WAIT_MS)))]);
      clearTimeout(t);
      conn.close();
    }
    this.conn = undefined;
    for (const w of [...this.connWaiters]) w.reject(this.authError ?? new ClientClosedError());
    this.connWaiters.clear();
    this.resumer.closeAll(new ClientClosedError());
    this.watches.closeAll();
    this.setState('closed');
    for (const s of [...this.stateStreams]) s.end();
    // The connection loop notices closingFlag and exits on its own (a connect attempt in
    // progress is closed as soon as it settles); close() does not wait for that.
  }

  private clearTimers(): void {
    clearTimeout(this.lostTimer);
    this.lostTimer = undefined;
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    if (this.sleepTimer) {
      clearTimeout(this.sleepTimer.timer);
      this.sleepTimer.wake();
      this.sleepTimer = undefined;
    }
  }

  private setState(s: ConnectionState): void {
    this.current = s;
    for (const stream of this.stateStreams) stream.push(s);
    try {
      this.emit('state', s);
    } catch (err) {
      // A throwing listener must not break the connection loop; surface it like Node would.
      process.nextTick(() => {
        throw err;
      });
    }
  }

  // ------------------------------------------------------------------ connection loop

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleepTimer = undefined;
        resolve();
      }, ms);
      this.sleepTimer = { timer, wake: resolve };
    });
  }

  private attemptTimeoutMs(): number {
    // Java uses timeout / hosts; we also cap it at a third of the timeout so that a server that
    // accepts TCP but never answers cannot eat the whole session before we try again.
    const t = this.negotiatedTimeoutMs || this.opts.sessionTimeoutMs;
    return Math.max(500, Math.floor(Math.min(t / this.hosts.length, t / 3)));
  }

  private async run(): Promise<void> {
    let failedRounds = 0;
    let failedInRound = 0;
    while (!this.closingFlag) {
      const hp = this.hosts[this.hostIndex++ % this.hosts.length]!;
      let conn: WireConnection;
      try {
        conn = await WireConnection.connect({
          host: hp.host,
          port: hp.port,
          sessionTimeoutMs: this.opts.sessionTimeoutMs,
          sessionId: this.sessionIdValue,
          passwd: this.passwd,
          lastZxidSeen: this.lastZxid,
          readOnly: this.opts.canBeReadOnly,
          connectTimeoutMs: this.attemptTimeoutMs(),
          ...(this.opts.maxFrameBytes !== undefined ? { maxFrameBytes: this.opts.maxFrameBytes } : {}),
          ...(this.opts.extensions ? { features: Feature.resumableWatches } : {}),
          ...(this.tls ? { tls: this.tls } : {}),
        });
      } catch {
        if (++failedInRound >= this.hosts.length) {
          failedInRound = 0;
          const base = Math.min(2000, this.opts.reconnectDelayMs * 2 ** Math.min(failedRounds++, 5));
          await this.sleep(base / 2 + this.opts.random() * (base / 2));
        }
        continue;
      }
      if (this.closingFlag) {
        conn.close();
        break;
      }
      if (conn.session.timeOut <= 0) {
        // The server no longer knows our session: expired.
        conn.close();
        this.sessionLost();
        continue;
      }
      failedRounds = 0;
      failedInRound = 0;
      this.connHost = `${hp.host}:${hp.port}`;
      const gone = new Promise<void>((resolve) => conn.once('close', () => resolve()));
      this.adoptSession(conn);
      if (this.sasl && !(await this.saslLogin(conn, this.sasl))) {
        if (this.closingFlag) break;
        // The connection broke during the login: try again (elsewhere), as for any lost connection.
        this.disconnected(conn);
        continue;
      }
      this.established(conn);
      if (!conn.isClosed) await gone;
      this.disconnected(conn);
    }
  }

  /** The handshake's session is ours (also while a SASL login is still running on it). */
  private adoptSession(conn: WireConnection): void {
    const s = conn.session;
    this.sessionIdValue = s.sessionId;
    this.passwd = s.passwd ?? Buffer.alloc(16);
    this.negotiatedTimeoutMs = s.timeOut;
    clearTimeout(this.lostTimer);
    this.lostTimer = undefined;
  }

  /**
   * The SASL exchange (ZooKeeperSaslClient): empty token, the server's DIGEST-MD5 challenge, our
   * response, the server's rspauth, which proves it knows the password too. Nothing else is sent
   * until it completes (Apache answers sasl packets ahead of queued requests, so anything
   * interleaved would come back out of order). Returns true when logged in, false when the
   * connection broke first; a refused login ends the client (failAuth).
   */
  private async saslLogin(conn: WireConnection, sasl: SaslOptions): Promise<boolean> {
    const mech = new DigestMd5Client({ ...CLIENT_PORT_SASL, username: sasl.username, password: sasl.password, cnonce: randomBytes(24).toString('base64') });
    const timer = setTimeout(() => conn.close(), this.attemptTimeoutMs());
    try {
      let token: Buffer | null = Buffer.alloc(0);
      // Two rounds for DIGEST-MD5; the bound stops a server that keeps challenging.
      for (let round = 0; round < 4 && !mech.complete; round++) {
        const reply = await conn.request(OpCode.sasl, (w) => rec.writeGetSASLRequest(w, { token }), rec.readSetSASLResponse);
        if (reply.err === ErrorCode.authFailed) throw new AuthFailedError(`SASL DIGEST-MD5 login as ${sasl.username} refused by the server (wrong password or unknown user)`);
        if (reply.err !== 0) throw errorFromCode(reply.err);
        token = mech.evaluate(reply.body?.token ?? Buffer.alloc(0));
      }
      if (!mech.complete) throw new SaslError('the server did not complete the exchange');
    } catch (err) {
      if (err instanceof WireClosedError) return false;
      const why = err instanceof SaslError ? new AuthFailedError(`SASL DIGEST-MD5 login as ${sasl.username} failed: ${err.message}`) : (err as Error);
      conn.close();
      this.failAuth(sasl, why);
      return false;
    } finally {
      clearTimeout(timer);
    }
    this.emit('sasl', { ok: true, mechanism: 'DIGEST-MD5', username: sasl.username } satisfies SaslOutcome);
    return true;
  }

  /** A refused SASL login is final, as the Java client's AUTH_FAILED state. */
  private failAuth(sasl: SaslOptions, error: Error): void {
    this.authError = error;
    for (const w of [...this.connWaiters]) w.reject(error);
    this.connWaiters.clear();
    this.emit('sasl', { ok: false, mechanism: 'DIGEST-MD5', username: sasl.username, error } satisfies SaslOutcome);
    this.setState('authFailed');
    void this.close();
  }

  private established(conn: WireConnection): void {
    const s = conn.session;
    this.conn = conn;
    this.setWatchesPending = 0;
    const now = Date.now();
    this.lastRecvMs = now;
    this.lastSendMs = now;
    conn.on('notification', (n: Notification) => this.onNotification(n));
    conn.socket.on('data', () => (this.lastRecvMs = Date.now()));
    // Auth and SetWatches go first, before any queued request (same order as the Java client).
    this.replayAuth(conn);
    this.sendSetWatches(conn);
    this.reattachResumable(conn);
    this.startPings(conn);
    const state: ConnectionState = s.readOnly ? 'readOnly' : this.everConnected ? 'reconnected' : 'connected';
    this.everConnected = true;
    if (this.current !== 'connected' && this.current !== 'reconnected' && this.current !== 'readOnly') this.setState(state);
    this.watches.notifyPersistent('syncConnected', conn.hasFeature(Feature.resumableWatches));
    for (const w of [...this.connWaiters]) w.resolve(conn);
    this.connWaiters.clear();
  }

  private disconnected(conn: WireConnection): void {
    if (this.conn === conn) this.conn = undefined;
    this.resumer.detachAll();
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    if (this.closingFlag) return;
    // 'connecting': a first connection broke during its SASL login; there was nothing to suspend.
    if (this.current !== 'suspended' && this.current !== 'lost' && this.current !== 'connecting') {
      this.setState('suspended');
      this.watches.notifyPersistent('disconnected');
    }
    if (this.sessionIdValue !== 0n && !this.lostTimer) {
      // Client-side LOST: the server will have expired us once the timeout passes unheard.
      this.lostTimer = setTimeout(() => this.sessionLost(), this.negotiatedTimeoutMs || this.opts.sessionTimeoutMs);
    }
  }

  /** The session is gone (server said so, or its timeout passed while we were cut off). */
  private sessionLost(): void {
    clearTimeout(this.lostTimer);
    this.lostTimer = undefined;
    if (this.sessionIdValue === 0n) return;
    this.sessionIdValue = 0n;
    this.passwd = Buffer.alloc(16);
    // A new session starts from scratch, as a new Java handle does: a server whose data was wiped
    // would otherwise refuse us forever for being "ahead" of it.
    this.lastZxid = 0n;
    this.setState('lost');
    for (const w of [...this.connWaiters]) w.reject(new SessionExpiredError());
    this.connWaiters.clear();
    this.watches.endOneShots('expired');
    this.watches.notifyPersistent('expired');
  }

  private startPings(conn: WireConnection): void {
    const timeout = this.negotiatedTimeoutMs;
    const pingEveryMs = Math.min(timeout / 3, 10_000);
    const readTimeoutMs = (timeout * 2) / 3;
    this.pingTimer = setInterval(() => {
      const now = Date.now();
      if (now - this.lastRecvMs > readTimeoutMs) {
        conn.close(); // silent server or network: drop and reconnect elsewhere
        return;
      }
      if (now - this.lastSendMs >= pingEveryMs) {
        this.lastSendMs = now;
        conn.ping().catch(() => undefined);
      }
    }, Math.max(50, Math.floor(pingEveryMs / 2)));
    this.pingTimer.unref?.();
  }

  private replayAuth(conn: WireConnection): void {
    for (const a of [...this.auth]) {
      conn
        .request(OpCode.auth, (w) => rec.writeAuthPacket(w, { type: 0, scheme: a.scheme, auth: a.auth }), undefined, Xid.auth)
        .then((r) => {
          if (r.err !== 0) {
            this.auth = this.auth.filter((x) => x !== a); // do not loop on a bad credential
            this.setState('authFailed');
          }
        })
        .catch(() => undefined);
    }
  }

  /**
   * Resumable watches go on from their positions; on a server without the extension (a move to an
   * Apache member) they become ordinary watches, re-armed by SetWatches, and say `resync`.
   */
  private reattachResumable(conn: WireConnection): void {
    const watches = this.watches.resumables();
    if (conn.hasFeature(Feature.resumableWatches)) return this.resumer.reattachAll(watches, conn);
    for (const w of watches) {
      w.resumable = false;
      w.stream.push({ type: 'none', state: 'syncConnected', path: w.path, resync: true });
    }
  }

  private sendSetWatches(conn: WireConnection): void {
    const lists = this.watches.setWatchesLists(conn.hasFeature(Feature.resumableWatches));
    const v2 = lists.persistentWatches.length + lists.persistentRecursiveWatches.length > 0;
    for (const batch of batchWatches(lists)) {
      this.setWatchesPending++;
      const body = { relativeZxid: this.lastZxid, ...batch };
      conn
        .request(
          v2 ? OpCode.setWatches2 : OpCode.setWatches,
          (w) => (v2 ? rec.writeSetWatches2(w, body) : rec.writeSetWatches(w, body)),
          undefined,
          Xid.setWatches,
          (reply) => {
            this.noteZxid(reply.zxid);
            this.setWatchesPending--;
          },
        )
        .catch(() => undefined);
    }
  }

  // ------------------------------------------------------------------ watches

  private onNotification(n: Notification): void {
    this.watches.dispatch(n, this.setWatchesPending === 0);
  }

  // ------------------------------------------------------------------ request plumbing

  /** Client path -> server path (chroot prepended). Exposed for Transaction. */
  serverPath(path: string): string {
    if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError(`path must be absolute: ${String(path)}`);
    return toServerPath(this.chroot, path);
  }

  private clientPath(serverPath: string): string {
    return fromServerPath(this.chroot, serverPath);
  }

  private noteZxid(zxid: bigint): void {
    if (zxid > this.lastZxid) this.lastZxid = zxid;
    // Notifications precede the reply that reveals their change: attached watches are caught up.
    this.resumer.caughtUp(zxid);
  }

  private whenConnected(signal: AbortSignal | undefined): Promise<WireConnection> {
    if (this.closingFlag) return Promise.reject(this.authError ?? new ClientClosedError());
    if (this.conn && !this.conn.isClosed) return Promise.resolve(this.conn);
    if (!this.loop) this.loop = this.run();
    return new Promise<WireConnection>((resolve, reject) => {
      const onAbort = () => {
        this.connWaiters.delete(waiter);
        reject(new AbortError(signal?.reason));
      };
      const waiter: ConnWaiter = {
        resolve: (c) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(c);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      this.connWaiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The call's own policy, else the client's; `retry: false` turns retrying off. */
  private policyFor(opts: CallOptions): RetryPolicy | undefined {
    return opts.retry === false ? undefined : (opts.retry ?? this.retryPolicy);
  }

  /** Runs `attempt` under the call's retry policy (once when there is none). */
  private retrying<T>(opts: CallOptions, attempt: (n: number) => Promise<T>, policy = this.policyFor(opts)): Promise<T> {
    if (!policy) return attempt(0);
    return retry(attempt, policy, { random: this.opts.random, ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  /**
   * Sends one request when connected and maps the reply: err != 0 -> typed error. `onReply` runs
   * synchronously on the reply frame (watch registration must precede any later notification).
   * Under a retry policy, ConnectionLoss is retried; `okOnRetry` codes answered to a retry count
   * as success (a delete whose first attempt applied finds NoNode).
   */
  private call<T>(
    opCode: number,
    path: string | undefined,
    write: ((w: JuteWriter) => void) | undefined,
    read: ((r: JuteReader) => T) | undefined,
    opts: CallOptions,
    onReply?: (reply: WireReply<T>) => void,
    okCodes: readonly number[] = [],
    okOnRetry: readonly number[] = [],
  ): Promise<T | undefined> {
    return this.retrying(opts, (attempt) => {
      const codes = attempt > 0 && okOnRetry.length > 0 ? [...okCodes, ...okOnRetry] : okCodes;
      return this.callOnce(opCode, path, write, read, opts, onReply, codes);
    });
  }

  private async callOnce<T>(
    opCode: number,
    path: string | undefined,
    write: ((w: JuteWriter) => void) | undefined,
    read: ((r: JuteReader) => T) | undefined,
    opts: CallOptions,
    onReply: ((reply: WireReply<T>) => void) | undefined,
    okCodes: readonly number[],
  ): Promise<T | undefined> {
    const signal = opts.signal;
    if (signal?.aborted) throw new AbortError(signal.reason);
    const conn = await this.whenConnected(signal);
    if (signal?.aborted) throw new AbortError(signal.reason);
    this.lastSendMs = Date.now();
    const sent = conn
      .request<T>(opCode, write, read, undefined, (reply) => {
        this.noteZxid(reply.zxid);
        onReply?.(reply);
      })
      .catch((e: unknown) => {
        throw e instanceof WireClosedError ? new ConnectionLossError(undefined, { ...(path !== undefined ? { path } : {}), cause: e }) : e;
      });
    const reply = await withAbort(sent, signal);
    if (reply.err !== 0 && !okCodes.includes(reply.err)) throw errorFromCode(reply.err, path);
    return reply.err === 0 ? reply.body : undefined;
  }

  // ------------------------------------------------------------------ operations

  /**
   * Creates a node. Under a retry policy a non-sequential create is repeated on ConnectionLoss (an
   * ephemeral that turns out to be ours counts as created); a sequential one is protected instead
   * (CreateOptions.protected), or not retried at all with `protected: false`.
   */
  async create(path: string, data?: Data, opts: CreateOptions = {}): Promise<CreateResult> {
    const sequential = (opts.mode ?? 'persistent').includes('Sequential');
    const policy = this.policyFor(opts);
    if (opts.protected ?? (sequential && policy !== undefined)) return this.createProtected(path, data, opts, policy ?? PROTECTED_CREATE_POLICY);
    if (sequential) return this.createWithParents(path, data, { ...opts, retry: false });
    const once = { ...opts, retry: false as const };
    return this.retrying(opts, async (attempt) => {
      try {
        return await this.createWithParents(path, data, once);
      } catch (err) {
        if (attempt > 0 && err instanceof NodeExistsError && opts.mode === 'ephemeral') {
          const { stat } = await this.exists(path, once);
          if (stat?.ephemeralOwner === this.sessionIdValue) return { path, stat };
        }
        throw err;
      }
    }, policy);
  }

  /**
   * Curator's withProtection(): `_c_<uuid>-name`; after a ConnectionLoss, find it before retrying.
   * If the create still fails with its outcome unknown (retries used up, aborted in flight), a
   * node it may have made is found and deleted in the background once the client is connected
   * again, as Curator does: nobody knows its name, so it would otherwise stay for the session's
   * lifetime (a lock or latch node nobody owns, ahead of every later contender).
   */
  private async createProtected(path: string, data: Data | undefined, opts: CreateOptions, policy: RetryPolicy): Promise<CreateResult> {
    const parent = parentOf(path);
    const prefix = `${PROTECTED_PREFIX}${randomUUID()}-`;
    const once = { ...opts, retry: false as const };
    try {
      return await this.retrying(opts, async (attempt) => {
        if (attempt > 0) {
          const found = await this.findProtected(parent, prefix, once);
          if (found) return found;
        }
        return this.createWithParents(joinPath(parent, prefix + path.slice(parent.length === 1 ? 1 : parent.length + 1)), data, once);
      }, policy);
    } catch (err) {
      if (outcomeUnknown(err)) {
        void this.inBackground(async () => {
          const found = await this.findProtected(parent, prefix, { retry: false });
          if (found) this.deleteInBackground(found.path, -1);
        });
      }
      throw err;
    }
  }

  /** Runs `task` until it succeeds, fails with an answer (not a lost connection), or the client closes. */
  private async inBackground(task: () => Promise<void>): Promise<void> {
    try {
      await retry(task, BACKGROUND_POLICY, { random: this.opts.random, signal: this.closing.signal });
    } catch {
      // An answer (NoNode: already gone; SessionExpired: an ephemeral went with it) or closed.
    }
  }

  private async findProtected(parent: string, prefix: string, opts: CallOptions): Promise<CreateResult | undefined> {
    let children: string[];
    try {
      // sync first: the lost create may still be a proposal at the leader (one cut off from its
      // followers commits it when the partition heals), and a server we reconnected to answers
      // reads from what it has applied. After sync it has applied everything the leader had
      // logged, so a create the leader accepted is seen here, not made a second time and orphaned.
      await this.sync(parent, opts);
      ({ children } = await this.getChildren(parent, opts));
    } catch (err) {
      if (err instanceof NoNodeError) return undefined;
      throw err;
    }
    const name = children.find((c) => c.startsWith(prefix));
    if (name === undefined) return undefined;
    const path = joinPath(parent, name);
    const { stat } = await this.exists(path, opts);
    return stat ? { path, stat } : undefined;
  }

  private async createWithParents(path: string, data: Data | undefined, opts: CreateOptions): Promise<CreateResult> {
    try {
      return await this.createOnce(path, data, opts);
    } catch (err) {
      if (!(opts.createParents && err instanceof NoNodeError)) throw err;
      await this.ensurePath(parentOf(path), { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.retry !== undefined ? { retry: opts.retry } : {}) });
      return this.createOnce(path, data, opts);
    }
  }

  private async createOnce(path: string, data: Data | undefined, opts: CreateOptions): Promise<CreateResult> {
    const mode = opts.mode ?? 'persistent';
    const req = { path: this.serverPath(path), data: toBuffer(data), acl: opts.acl ?? OPEN_ACL_UNSAFE, flags: modeFlags(mode) };
    let body: rec.Create2Response | undefined;
    if (isTTL(mode)) {
      if (opts.ttlMs === undefined) throw new TypeError(`mode ${mode} needs ttlMs`);
      const ttl = BigInt(opts.ttlMs);
      body = await this.call(OpCode.createTTL, path, (w) => rec.writeCreateTTLRequest(w, { ...req, ttl }), rec.readCreate2Response, opts);
    } else {
      const op = mode === 'container' ? OpCode.createContainer : OpCode.create2;
      body = await this.call(op, path, (w) => rec.writeCreateRequest(w, req), rec.readCreate2Response, opts);
    }
    return { path: this.clientPath(body!.path), stat: body!.stat };
  }

  /** Creates `path` and any missing ancestors as persistent nodes; existing nodes are fine. */
  async ensurePath(path: string, opts: CallOptions & { acl?: readonly ACL[] } = {}): Promise<void> {
    if (path === '/') return;
    const parts = path.split('/').filter((p) => p !== '');
    let cur = '';
    for (const part of parts) {
      cur += `/${part}`;
      try {
        await this.createOnce(cur, null, { ...opts, mode: 'persistent' });
      } catch (err) {
        if (!(err instanceof NodeExistsError)) throw err;
      }
    }
  }

  /** Under a retry policy, NoNode answered to a retry counts as deleted (the first attempt applied). */
  async delete(path: string, opts: DeleteOptions = {}): Promise<void> {
    const req = { path: this.serverPath(path), version: opts.version ?? -1 };
    try {
      await this.call<void>(OpCode.delete, path, (w) => rec.writeDeleteRequest(w, req), undefined, opts, undefined, [], [ErrorCode.noNode]);
    } catch (err) {
      if (opts.guaranteed && outcomeUnknown(err)) this.deleteInBackground(path, req.version);
      throw err;
    }
  }

  /** Deletes `path` in the background until done (NoNode counts as done), once per path at a time. */
  private deleteInBackground(path: string, version: number): void {
    if (this.deletingInBackground.has(path)) return;
    this.deletingInBackground.add(path);
    const req = { path: this.serverPath(path), version };
    const once = () => this.call<void>(OpCode.delete, path, (w) => rec.writeDeleteRequest(w, req), undefined, { retry: false }, undefined, [ErrorCode.noNode]);
    void this.inBackground(async () => void (await once())).finally(() => this.deletingInBackground.delete(path));
  }

  /** Deletes a node and everything under it (not atomic; NoNode along the way is ignored). */
  async deleteAll(path: string, opts: CallOptions = {}): Promise<void> {
    let children: string[];
    try {
      ({ children } = await this.getChildren(path, opts));
    } catch (err) {
      if (err instanceof NoNodeError) return;
      throw err;
    }
    for (const c of children) await this.deleteAll(joinPath(path, c), opts);
    try {
      await this.delete(path, opts);
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
    }
  }

  /** `stat: null` when the node does not exist (a watch then waits for its creation). */
  async exists<W extends boolean = false>(path: string, opts: WatchOption<W> = {}): Promise<Watched<W, { stat: Stat | null }>> {
    const full = this.serverPath(path);
    let watch: Promise<WatchedEvent> | undefined;
    const stat = await this.call(
      OpCode.exists,
      path,
      (w) => rec.writeExistsRequest(w, { path: full, watch: !!opts.watch }),
      rec.readStat,
      opts,
      opts.watch
        ? (reply) => {
            if (reply.err === 0) watch = this.watches.addOneShot('data', full);
            else if (reply.err === ErrorCode.noNode) watch = this.watches.addOneShot('exist', full);
          }
        : undefined,
      [ErrorCode.noNode],
    );
    return (opts.watch ? { stat: stat ?? null, watch } : { stat: stat ?? null }) as Watched<W, { stat: Stat | null }>;
  }

  async getData<W extends boolean = false>(path: string, opts: WatchOption<W> = {}): Promise<Watched<W, { data: Buffer | null; stat: Stat }>> {
    const full = this.serverPath(path);
    let watch: Promise<WatchedEvent> | undefined;
    const body = await this.call(
      OpCode.getData,
      path,
      (w) => rec.writeGetDataRequest(w, { path: full, watch: !!opts.watch }),
      rec.readGetDataResponse,
      opts,
      opts.watch ? (reply) => void (reply.err === 0 && (watch = this.watches.addOneShot('data', full))) : undefined,
    );
    return (opts.watch ? { ...body!, watch } : { ...body! }) as Watched<W, { data: Buffer | null; stat: Stat }>;
  }

  async setData(path: string, data: Data, opts: VersionOption = {}): Promise<Stat> {
    const req = { path: this.serverPath(path), data: toBuffer(data), version: opts.version ?? -1 };
    return (await this.call(OpCode.setData, path, (w) => rec.writeSetDataRequest(w, req), rec.readStat, opts))!;
  }

  /** Children names (unsorted, as the server returns them) and the parent's Stat (getChildren2). */
  async getChildren<W extends boolean = false>(path: string, opts: WatchOption<W> = {}): Promise<Watched<W, { children: string[]; stat: Stat }>> {
    const full = this.serverPath(path);
    let watch: Promise<WatchedEvent> | undefined;
    const body = await this.call(
      OpCode.getChildren2,
      path,
      (w) => rec.writeGetChildrenRequest(w, { path: full, watch: !!opts.watch }),
      rec.readGetChildren2Response,
      opts,
      opts.watch ? (reply) => void (reply.err === 0 && (watch = this.watches.addOneShot('child', full))) : undefined,
    );
    return (opts.watch ? { ...body!, watch } : { ...body! }) as Watched<W, { children: string[]; stat: Stat }>;
  }

  async getACL(path: string, opts: CallOptions = {}): Promise<{ acl: ACL[]; stat: Stat }> {
    return (await this.call(OpCode.getACL, path, (w) => rec.writeGetACLRequest(w, { path: this.serverPath(path) }), rec.readGetACLResponse, opts))!;
  }

  async setACL(path: string, acl: readonly ACL[], opts: VersionOption = {}): Promise<Stat> {
    const req = { path: this.serverPath(path), acl, version: opts.version ?? -1 };
    return (await this.call(OpCode.setACL, path, (w) => rec.writeSetACLRequest(w, req), rec.readStat, opts))!;
  }

  /** Waits until the server we talk to has caught up with the leader; returns the path. */
  async sync(path: string, opts: CallOptions = {}): Promise<string> {
    const body = await this.call(OpCode.sync, path, (w) => rec.writeSyncRequest(w, { path: this.serverPath(path) }), rec.readSyncResponse, opts);
    return this.clientPath(body!.path);
  }

  /** This session's ephemerals whose path starts with `prefix` (raw prefix match, as ZooKeeper). */
  async getEphemerals(prefix = '/', opts: CallOptions = {}): Promise<string[]> {
    const full = this.chroot === '' ? prefix : prefix === '/' ? this.chroot + '/' : this.serverPath(prefix);
    const body = await this.call(OpCode.getEphemerals, prefix, (w) => rec.writeGetEphemeralsRequest(w, { prefixPath: full }), rec.readGetEphemeralsResponse, opts);
    const ephemerals = body!.ephemerals;
    const inside = this.chroot === '' ? ephemerals : ephemerals.filter((p) => p.startsWith(this.chroot + '/'));
    return inside.map((p) => this.clientPath(p));
  }

  /** Number of descendants of `path` (not counting itself). */
  async getAllChildrenNumber(path: string, opts: CallOptions = {}): Promise<number> {
    const body = await this.call(
      OpCode.getAllChildrenNumber,
      path,
      (w) => rec.writeGetAllChildrenNumberRequest(w, { path: this.serverPath(path) }),
      rec.readGetAllChildrenNumberResponse,
      opts,
    );
    return body!.totalNumber;
  }

  async whoAmI(opts: CallOptions = {}): Promise<ClientInfo[]> {
    return (await this.call(OpCode.whoAmI, undefined, undefined, rec.readWhoAmIResponse, opts))!.clientInfo;
  }

  /**
   * Adds credentials to the connection; they are replayed on every reconnect. A bad credential
   * makes the server close the connection: this rejects with AuthFailedError and the client emits
   * 'authFailed', then reconnects without it.
   */
  async addAuth(scheme: string, auth: string | Buffer, opts: CallOptions = {}): Promise<void> {
    const entry = { scheme, auth: toBuffer(auth) ?? Buffer.alloc(0) };
    const conn = await this.whenConnected(opts.signal);
    const reply = await withAbort(
      conn.request(OpCode.auth, (w) => rec.writeAuthPacket(w, { type: 0, scheme, auth: entry.auth }), undefined, Xid.auth).catch((e: unknown) => {
        throw e instanceof WireClosedError ? new ConnectionLossError(undefined, { cause: e }) : e;
      }),
      opts.signal,
    );
    if (reply.err !== 0) {
      this.setState('authFailed');
      throw errorFromCode(reply.err);
    }
    this.auth.push(entry);
  }

  /**
   * Registers a persistent (or recursive) watch and returns it as an async iterator of events.
   * With `resumable` (or `from`), on zabkeeper servers the watch resumes from its position after
   * every reconnect, move or session loss, and events carry zxid, position and Stat (and data with
   * `includeData`); elsewhere it is an ordinary watch (`watch.resumable === false`).
   */
  async addWatch(path: string, opts: AddWatchOptions = {}): Promise<PersistentWatch> {
    const mode = opts.mode ?? 'persistentRecursive';
    const full = this.serverPath(path);
    const watch = new PersistentWatch(
      path,
      mode,
      opts.bufferSize ?? this.opts.watchBufferSize,
      opts.overflow ?? 'error',
      (w) => this.detachPersistent(w, full),
      opts.includeData ?? false,
    );
    if (opts.resumable || opts.from !== undefined) {
      const conn = await this.whenConnected(opts.signal);
      if (conn.hasFeature(Feature.resumableWatches)) return this.addResumable(watch, full, conn, opts);
      // No history on this server: an ordinary watch; a requested past cannot be replayed.
      if (opts.from !== undefined) watch.stream.push({ type: 'none', state: 'syncConnected', path, resync: true });
    }
    await this.call<void>(OpCode.addWatch, path, (w) => rec.writeAddWatchRequest(w, { path: full, mode: AddWatchMode[mode] }), undefined, opts, (reply) => {
      if (reply.err === 0) this.watches.addPersistent(full, watch);
    });
    opts.signal?.addEventListener('abort', () => void watch.close(), { once: true });
    return watch;
  }

  private async addResumable(watch: PersistentWatch, full: string, conn: WireConnection, opts: AddWatchOptions): Promise<PersistentWatch> {
    watch.resumable = true;
    const from = opts.from;
    if (from !== undefined) watch.startAfter(typeof from === 'bigint' ? { zxid: from, seen: SEEN_ALL } : from);
    this.watches.addPersistent(full, watch);
    try {
      await withAbort(this.resumer.attach(watch, conn), opts.signal);
    } catch (err) {
      await watch.close();
      throw err;
    }
    opts.signal?.addEventListener('abort', () => void watch.close(), { once: true });
    return watch;
  }

  /** `for await (const ev of zk.watch('/cfg'))`: addWatch as a plain async iterable. */
  async *watch(path: string, opts: AddWatchOptions = {}): AsyncGenerator<WatchedEvent, void, undefined> {
    const w = await this.addWatch(path, opts);
    try {
      for await (const ev of w) yield ev;
    } finally {
      await w.close();
    }
  }

  private async detachPersistent(w: PersistentWatch, full: string): Promise<void> {
    this.resumer.forget(w);
    if (!this.watches.deletePersistent(full, w)) return;
    if (this.closingFlag || !this.isConnected) return;
    const type = w.mode === 'persistent' ? WatcherType.persistent : WatcherType.persistentRecursive;
    const remove = (t: number) => this.call<void>(OpCode.removeWatches, w.path, (wr) => rec.writeRemoveWatchesRequest(wr, { path: full, type: t }), undefined, {});
    try {
      await remove(type);
    } catch (err) {
      if (!(err instanceof ZkError) || err.code === ErrorCode.noWatcher) return;
      // ZooKeeper 3.8.0 rejects types 4/5 here (MarshallingError). 'any' removes the persistent
      // watch too, but also one-shot watches on the path: only use it when we hold none there;
      // otherwise leave the server watch in place (its events find no local watcher and are dropped).
      if (this.watches.has(full)) return;
      await remove(WatcherType.any).catch(() => undefined);
    }
  }

  /** Asks the server whether this connection has a watch of `type` on path (NoWatcherError if not). */
  async checkWatches(path: string, type: WatcherTypeName = 'any', opts: CallOptions = {}): Promise<void> {
    await this.call<void>(OpCode.checkWatches, path, (w) => rec.writeCheckWatchesRequest(w, { path: this.serverPath(path), type: WatcherType[type] }), undefined, opts);
  }

  /**
   * Removes this client's watches of `type` on path, server-side and locally. Removed one-shot
   * watches resolve with dataWatchRemoved/childWatchRemoved; persistent iterators get
   * persistentWatchRemoved and end. `local: true` skips the server when disconnected.
   */
  async removeWatches(path: string, type: WatcherTypeName = 'any', opts: CallOptions & { local?: boolean } = {}): Promise<void> {
    const full = this.serverPath(path);
    if (!(opts.local && !this.isConnected)) {
      await this.call<void>(OpCode.removeWatches, path, (w) => rec.writeRemoveWatchesRequest(w, { path: full, type: WatcherType[type] }), undefined, opts);
    }
    this.watches.removeLocal(full, type);
  }

  transaction(): Transaction {
    return new Transaction(this);
  }

  /** @internal Used by Transaction.commit. */
  async runMulti(ops: readonly { op: MultiOp; path: string }[], opts: CallOptions): Promise<MultiResult[]> {
    const list = ops.map((o) => o.op);
    const results = (await this.call(OpCode.multi, undefined, (w) => writeMultiRequest(w, list), readMultiResponse, opts))!;
    // The op that really failed; later ops report RuntimeInconsistency, earlier ones 0.
    const isErr = (r: OpResult): boolean => r.type === OpCode.error && r.err !== 0;
    const failedAt = results.findIndex((r) => isErr(r) && (r as { err: number }).err !== ErrorCode.runtimeInconsistency);
    const first = failedAt >= 0 ? failedAt : results.findIndex(isErr);
    if (first >= 0) {
      const err = errorFromCode((results[first] as { err: number }).err, ops[first]?.path);
      err.failedOpIndex = first;
      err.opErrors = results.map((r, i) => (isErr(r) ? errorFromCode((r as { err: number }).err, ops[i]?.path) : undefined));
      throw err;
    }
    return results.map((r) => this.multiResult(r));
  }

  private multiResult(r: OpResult): MultiResult {
    switch (r.type) {
      case OpCode.create:
        return { type: 'create', path: this.clientPath(r.path) };
      case OpCode.create2:
        return { type: 'create', path: this.clientPath(r.path), stat: r.stat };
      case OpCode.delete:
        return { type: 'delete' };
      case OpCode.setData:
        return { type: 'setData', stat: r.stat };
      case OpCode.check:
        return { type: 'check' };
      default:
        throw new ZkError(ErrorCode.marshallingError, `unexpected multi result type ${r.type}`);
    }
  }

  /** Several reads in one round trip; each succeeds or fails on its own. */
  async multiRead(ops: readonly ReadOp[], opts: CallOptions = {}): Promise<ReadResult[]> {
    const list: MultiOp[] = ops.map((o) => ({ type: o.type === 'getData' ? OpCode.getData : OpCode.getChildren, request: { path: this.serverPath(o.path), watch: false } }));
    const results = (await this.call(OpCode.multiRead, undefined, (w) => writeMultiRequest(w, list), readMultiResponse, opts))!;
    return results.map((r, i): ReadResult => {
      if (r.type === OpCode.getData) return { type: 'getData', data: r.data, stat: r.stat };
      if (r.type === OpCode.getChildren) return { type: 'getChildren', children: r.children };
      if (r.type === OpCode.error) return { type: 'error', error: errorFromCode(r.err, ops[i]?.path) };
      return { type: 'error', error: new ZkError(ErrorCode.marshallingError, `unexpected multiRead result type ${r.type}`) };
    });
  }
}

/** Splits SetWatches lists into batches of at most ~128 KB of path bytes. Exported for tests. */
export function batchWatches<K extends string>(lists: Record<K, string[]>): Record<K, string[]>[] {
  const keys = Object.keys(lists) as K[];
  const empty = (): Record<K, string[]> => Object.fromEntries(keys.map((k) => [k, [] as string[]])) as Record<K, string[]>;
  const batches: Record<K, string[]>[] = [];
  let cur = empty();
  let bytes = 0;
  let any = false;
  for (const k of keys) {
    for (const p of lists[k]) {
      const len = Buffer.byteLength(p) + 4;
      if (any && bytes + len > SET_WATCHES_BATCH_BYTES) {
        batches.push(cur);
        cur = empty();
        bytes = 0;
      }
      cur[k].push(p);
      bytes += len;
      any = true;
    }
  }
  if (any) batches.push(cur);
  return batches;
}

/** ClientOptions.tls as Node's tls.connect options. */
function nodeTlsOptions(t: ClientTlsOptions): ConnectionOptions {
  const { hostnameVerification, ...rest } = t;
  // ssl.hostnameVerification=false: any certificate the CA signed is accepted, whatever it names.
  return hostnameVerification === false ? { ...rest, checkServerIdentity: () => undefined } : { ...rest };
}

/** Creates a client and waits for its first session (rejects with ConnectTimeoutError, or AuthFailedError for a refused SASL login). */
export async function createClient(connectString: string, options: ClientOptions = {}): Promise<ZkClient> {
  const client = new ZkClient(connectString, options);
  return client.connect();
}
