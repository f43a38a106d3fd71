/**
 * Public types of the client library (kept apart from client.ts so recipes and users can import
 * them without pulling in the socket code).
 */
import { CreateFlags, EventType, KeeperState } from '../../protocol/jute/constants';
import type { ACL, Stat } from '../../protocol/jute/data';
import type { ZkError } from './errors';
import type { OverflowPolicy } from './stream';
import type { RetryPolicy } from './retry';

/** Curator's connection-state vocabulary. */
export type ConnectionState = 'connected' | 'suspended' | 'reconnected' | 'lost' | 'readOnly' | 'authFailed' | 'closed';

export type EventTypeName = keyof typeof EventType;
export type KeeperStateName = keyof typeof KeeperState;

/**
 * A watch firing. `type: 'none'` events carry connection state changes to persistent watches
 * (disconnected, syncConnected, expired, closed) and end one-shot watches that can no longer fire
 * (expired, closed): one-shot watch promises never reject.
 */
export interface WatchedEvent {
  type: EventTypeName;
  state: KeeperStateName;
  /** Client-side path (chroot stripped). */
  path: string;
  /** Triggering zxid (3.9 servers and zabkeeper; -1 from 3.8). Absent on client-made events. */
  zxid?: bigint;
  /** The node's Stat after the event's txn (zabkeeper; created, changed, childrenChanged). */
  stat?: Stat;
  /** The node's data after the event's txn (zabkeeper, resumable watches with includeData, small data only). */
  data?: Buffer | null;
  /** Resumable watches: this event's position; pass it as `from` to resume right after it. */
  position?: WatchPosition;
  /**
   * Set on a `type: 'none'` event of a resumable watch when events may have been missed (the
   * server's history no longer reaches back to the watch's position, or the server does not support
   * resuming): re-read what you mirror, then carry on with the events that follow.
   */
  resync?: true;
}

/**
 * Where a resumable watch stands: every event of txns before `zxid` and the first `seen` events of
 * txn `zxid` (-1: all of them). Persist it (e.g. `${zxid}:${seen}`) to resume after a restart.
 */
export interface WatchPosition {
  zxid: bigint;
  seen: number;
}

export type CreateMode = keyof typeof CreateFlags;

export type Data = Buffer | Uint8Array | string | null;

export interface ClientOptions {
  /** Requested session timeout; the server clamps it. Default 30000. */
  sessionTimeoutMs?: number;
  /** How long connect()/createClient() wait for the first session before rejecting. Default: sessionTimeoutMs. */
  connectTimeoutMs?: number;
  /** Accept read-only servers (state 'readOnly'). Default false. */
  canBeReadOnly?: boolean;
  /** Credentials sent on every (re)connect, before anything else. */
  auth?: { scheme: string; auth: string | Buffer }[];
  /** Shuffle the host list once at start (default true), like the Java client. */
  shuffleHosts?: boolean;
  /** Random source for shuffling and backoff jitter (tests pass a seeded one). */
  random?: () => number;
  /** Base delay between rounds of failed connection attempts (doubles up to 2 s). Default 100. */
  reconnectDelayMs?: number;
  /** Largest reply frame accepted. Default jute.maxbuffer + slack. */
  maxFrameBytes?: number;
  /**
   * Connect over TLS (a server's secureClientPort): `ca` (the CA that signed the servers'
   * certificates), `cert` + `key` for a client certificate (its subject is the session's x509
   * id), `servername` when the host you dial is not the name in the certificate. The servers'
   * certificates are always verified.
   */
  tls?: ClientTlsOptions;
  /**
   * SASL login on every connection, before any other request (what the Java client does with a
   * JAAS `Client` section): DIGEST-MD5 as a user of the server's JAAS `Server` section. The session
   * then holds the `sasl:<username>` id; reconnects log in again. A failed login (wrong password,
   * unknown user, a server without SASL) is final, as the Java client's AUTH_FAILED: state
   * `authFailed`, pending and later calls reject with AuthFailedError, and the client closes.
   * DIGEST-MD5 authenticates but does not encrypt: combine it with `tls`.
   */
  sasl?: SaslOptions;
  /** Default buffer size for persistent watches and state iterators. Default 1024. */
  watchBufferSize?: number;
  /**
   * Ask zabkeeper servers for protocol extensions (resumable watches, event details). Apache
   * servers ignore the request; default true.
   */
  extensions?: boolean;
  /**
   * Retry every operation that fails with ConnectionLoss or OperationTimeout under this policy
   * (ExponentialBackoff, RetryNTimes...). Off by default. Sequential creates are then protected
   * (see CreateOptions.protected) rather than blindly repeated.
   */
  retryPolicy?: RetryPolicy;
}

/**
 * TLS to a server's secureClientPort (or a client.portUnification port). The servers' certificates
 * are verified against `ca` (Node's bundled CAs when absent).
 */
export interface ClientTlsOptions {
  /** CA certificate(s) the servers' certificates chain to (PEM). */
  ca?: string | Buffer | (string | Buffer)[];
  /** Client certificate chain and key (PEM): the certificate's subject is the session's x509 id. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Decrypts an encrypted `key` (or `pfx`). */
  passphrase?: string;
  /** A PKCS12 key store holding the client key and certificate, instead of `cert` + `key`. */
  pfx?: Buffer;
  /** The name the server's certificate must carry when it is not the host dialled. */
  servername?: string;
  /** ZooKeeper's ssl.hostnameVerification: check the certificate names the server. Default true. */
  hostnameVerification?: boolean;
  /** Protocol range and cipher list (OpenSSL syntax), as Node's tls.connect takes them. */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  ciphers?: string;
}

/** A SASL login (ClientOptions.sasl). Only DIGEST-MD5 exists on ZooKeeper besides Kerberos. */
export interface SaslOptions {
  mechanism?: 'DIGEST-MD5';
  username: string;
  password: string;
}

/** Emitted as 'sasl' after each login attempt (on every connection when `sasl` is set). */
export type SaslOutcome = { ok: true; mechanism: 'DIGEST-MD5'; username: string } | { ok: false; mechanism: 'DIGEST-MD5'; username: string; error: Error };

export interface CallOptions {
  /** Aborting rejects the call with AbortError; a request already sent still runs server-side. */
  signal?: AbortSignal;
  /** This call's retry policy, overriding ClientOptions.retryPolicy; `false` = no retry. */
  retry?: RetryPolicy | false;
}

export interface WatchOption<W extends boolean> extends CallOptions {
  watch?: W;
}

/** Adds `watch: Promise<WatchedEvent>` to a result when the call asked for a watch. */
export type Watched<W extends boolean, T> = W extends true ? T & { watch: Promise<WatchedEvent> } : T;

export interface CreateOptions extends CallOptions {
  mode?: CreateMode;
  acl?: readonly ACL[];
  /** Required for the TTL modes. */
  ttlMs?: number | bigint;
  /** Create missing parents (as persistent nodes) and retry once. */
  createParents?: boolean;
  /**
   * Curator's protection mode: the node's name gets the prefix `_c_<uuid>-`, and after a
   * ConnectionLoss the client looks for its own node among the parent's children instead of
   * creating a second one. Default: on for sequential modes when a retry policy applies, otherwise
   * off. A protected create retries under the call's or client's policy, by default
   * BoundedExponentialBackoff(50, 1000, 29) (each attempt also waits for a connection).
   */
  protected?: boolean;
}

export interface CreateResult {
  path: string;
  stat: Stat;
}

export interface VersionOption extends CallOptions {
  /** -1 (default) matches any version. */
  version?: number;
}

export interface DeleteOptions extends VersionOption {
  /**
   * Curator's guaranteed(): a delete whose outcome a connection loss left unknown is repeated in
   * the background, across reconnects and for as long as the client is open, until it succeeds or
   * the node is gone. The returned promise still settles with the first outcome the call's own
   * retry policy reaches; recipes use it so that a lock or latch node given up while cut off
   * cannot outlive its owner and block every later contender for the session's lifetime.
   */
  guaranteed?: boolean;
}

export type WatcherTypeName = 'children' | 'data' | 'any' | 'persistent' | 'persistentRecursive';

export interface AddWatchOptions extends CallOptions {
  /** Default 'persistentRecursive'. */
  mode?: 'persistent' | 'persistentRecursive';
  /**
   * zabkeeper: resume after disconnects, moves between servers and session loss without losing
   * or repeating an event (each carries its zxid and position). Against a server without the
   * extension (Apache ZooKeeper) the watch is an ordinary one and `resumable` reads false.
   */
  resumable?: boolean;
  /** Resumable: start after this position (or zxid: every event of later txns) instead of now. */
  from?: WatchPosition | bigint;
  /** Resumable: events carry the node's data (when small) besides its Stat. */
  includeData?: boolean;
  /** Events buffered before the overflow policy applies. Default ClientOptions.watchBufferSize. */
  bufferSize?: number;
  /** Default 'error': the iterator throws WatchOverflowError and the watch is removed. */
  overflow?: OverflowPolicy;
}

/** Results of a committed transaction, one per op, in order. */
export type MultiResult =
  | { type: 'create'; path: string; stat?: Stat }
  | { type: 'delete' }
  | { type: 'setData'; stat: Stat }
  | { type: 'check' };

export type ReadOp = { type: 'getData'; path: string } | { type: 'getChildren'; path: string };

export type ReadResult =
  | { type: 'getData'; data: Buffer | null; stat: Stat }
  | { type: 'getChildren'; children: string[] }
  | { type: 'error'; error: ZkError };
