/**
 * Public API of the zabkeeper TypeScript client. Everything a user (and src/recipes) may import.
 * The embeddable test server lives in './testing' and is deliberately not re-exported here.
 */
export { ZkClient, createClient, Transaction, PersistentWatch } from './client';
export * from './errors';
export {
  retry,
  isRetryable,
  ExponentialBackoff,
  BoundedExponentialBackoff,
  RetryNTimes,
  RetryOneTime,
  RetryUntilElapsed,
  RetryForever,
  type RetryPolicy,
  type RetryOptions,
} from './retry';
export type {
  AddWatchOptions,
  CallOptions,
  ClientOptions,
  ClientTlsOptions,
  SaslOptions,
  SaslOutcome,
  ConnectionState,
  CreateMode,
  CreateOptions,
  CreateResult,
  Data,
  EventTypeName,
  KeeperStateName,
  MultiResult,
  ReadOp,
  ReadResult,
  DeleteOptions,
  VersionOption,
  WatchOption,
  Watched,
  WatchedEvent,
  WatcherTypeName,
  WatchPosition,
} from './types';
export type { OverflowPolicy } from './stream';
export { parseConnectString, type HostPort, type ParsedConnectString } from './connectString';
export { OPEN_ACL_UNSAFE, CREATOR_ALL_ACL, READ_ACL_UNSAFE, type ACL, type Id, type Stat, type ClientInfo } from '../../protocol/jute/data';
export { Perms } from '../../protocol/jute/constants';
