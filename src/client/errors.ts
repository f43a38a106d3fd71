/**
 * Typed errors for the client library: one class per ZooKeeper error code (KeeperException.Code),
 * a generic ZkError for codes we do not know (the number is kept, nothing is thrown from the socket
 * path), and the few client-side errors that have no code (abort, closed client, watch overflow).
 *
 * `instanceof` works across duplicate installs of the package: every class carries a
 * Symbol.for brand and checks it in Symbol.hasInstance (the undici pattern).
 */
import { ErrorCode, errorCodeName } from '../../protocol/jute/constants';
import { ExtErrorCode } from '../../protocol/jute/extensions';

/** Names of every code, zabkeeper's extension codes included. */
const codeNames: ReadonlyMap<number, string> = new Map([...errorCodeName, ...Object.entries(ExtErrorCode).map(([k, v]) => [v, k] as const)]);

const BRAND = Symbol.for('zabkeeper.client.ZkError');

export interface ZkErrorOptions {
  path?: string;
  cause?: unknown;
}

/** Base class of every error carrying a ZooKeeper code. */
export class ZkError extends Error {
  readonly code: number;
  readonly codeName: string;
  readonly path: string | undefined;
  /** For a failed multi: the index of the op that failed (the rest rolled back). */
  failedOpIndex?: number;
  /** For a failed multi: one entry per op, `undefined` for ops that would have succeeded. */
  opErrors?: (ZkError | undefined)[];

  constructor(code: number, message?: string, opts: ZkErrorOptions = {}) {
    const name = codeNames.get(code) ?? `unknown(${code})`;
    super(message ?? (opts.path !== undefined ? `${name}: ${opts.path}` : name), opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.code = code;
    this.codeName = name;
    this.path = opts.path;
    this.name = 'ZkError';
    (this as unknown as Record<symbol, number>)[BRAND] = code;
  }

  static override [Symbol.hasInstance](v: unknown): boolean {
    if (typeof v !== 'object' || v === null || !(BRAND in v)) return false;
    // For subclasses the brand's code must match the class's own code.
    const own = (this as unknown as { CODE?: number }).CODE;
    return own === undefined || (v as Record<symbol, number>)[BRAND] === own;
  }
}

type ZkErrorClass = (new (message?: string, opts?: ZkErrorOptions) => ZkError) & { readonly CODE: number };

/** Builds the subclass for one code; the class name shows in stack traces and `err.name`. */
function codeClass(code: number, className: string): ZkErrorClass {
  const cls = class extends ZkError {
    static readonly CODE = code;
    constructor(message?: string, opts?: ZkErrorOptions) {
      super(code, message, opts);
      this.name = className;
    }
  };
  Object.defineProperty(cls, 'name', { value: className });
  return cls;
}

export const SystemError = codeClass(ErrorCode.systemError, 'SystemError');
export const RuntimeInconsistencyError = codeClass(ErrorCode.runtimeInconsistency, 'RuntimeInconsistencyError');
export const DataInconsistencyError = codeClass(ErrorCode.dataInconsistency, 'DataInconsistencyError');
export const ConnectionLossError = codeClass(ErrorCode.connectionLoss, 'ConnectionLossError');
export const MarshallingError = codeClass(ErrorCode.marshallingError, 'MarshallingError');
export const UnimplementedError = codeClass(ErrorCode.unimplemented, 'UnimplementedError');
export const OperationTimeoutError = codeClass(ErrorCode.operationTimeout, 'OperationTimeoutError');
export const BadArgumentsError = codeClass(ErrorCode.badArguments, 'BadArgumentsError');
export const UnknownSessionError = codeClass(ErrorCode.unknownSession, 'UnknownSessionError');
export const NewConfigNoQuorumError = codeClass(ErrorCode.newConfigNoQuorum, 'NewConfigNoQuorumError');
export const ReconfigInProgressError = codeClass(ErrorCode.reconfigInProgress, 'ReconfigInProgressError');
export const APIError = codeClass(ErrorCode.apiError, 'APIError');
export const NoNodeError = codeClass(ErrorCode.noNode, 'NoNodeError');
export const NoAuthError = codeClass(ErrorCode.noAuth, 'NoAuthError');
export const BadVersionError = codeClass(ErrorCode.badVersion, 'BadVersionError');
export const NoChildrenForEphemeralsError = codeClass(ErrorCode.noChildrenForEphemerals, 'NoChildrenForEphemeralsError');
export const NodeExistsError = codeClass(ErrorCode.nodeExists, 'NodeExistsError');
export const NotEmptyError = codeClass(ErrorCode.notEmpty, 'NotEmptyError');
export const SessionExpiredError = codeClass(ErrorCode.sessionExpired, 'SessionExpiredError');
export const InvalidCallbackError = codeClass(ErrorCode.invalidCallback, 'InvalidCallbackError');
export const InvalidACLError = codeClass(ErrorCode.invalidACL, 'InvalidACLError');
export const AuthFailedError = codeClass(ErrorCode.authFailed, 'AuthFailedError');
export const SessionMovedError = codeClass(ErrorCode.sessionMoved, 'SessionMovedError');
export const NotReadOnlyError = codeClass(ErrorCode.notReadOnly, 'NotReadOnlyError');
export const EphemeralOnLocalSessionError = codeClass(ErrorCode.ephemeralOnLocalSession, 'EphemeralOnLocalSessionError');
export const NoWatcherError = codeClass(ErrorCode.noWatcher, 'NoWatcherError');
export const RequestTimeoutError = codeClass(ErrorCode.requestTimeout, 'RequestTimeoutError');
export const ReconfigDisabledError = codeClass(ErrorCode.reconfigDisabled, 'ReconfigDisabledError');
export const SessionClosedRequireSaslAuthError = codeClass(ErrorCode.sessionClosedRequireSaslAuth, 'SessionClosedRequireSaslAuthError');
export const QuotaExceededError = codeClass(ErrorCode.quotaExceeded, 'QuotaExceededError');
export const ThrottledOpError = codeClass(ErrorCode.throttledOp, 'ThrottledOpError');
/** zabkeeper: a resumable watch's position is older than the server's event history. */
export const HistoryPurgedError = codeClass(ExtErrorCode.historyPurged, 'HistoryPurgedError');

/** Code -> class. Codes missing here become a plain ZkError with the number preserved. */
const byCode: ReadonlyMap<number, ZkErrorClass> = new Map(
  [
    SystemError, RuntimeInconsistencyError, DataInconsistencyError, ConnectionLossError, MarshallingError,
    UnimplementedError, OperationTimeoutError, BadArgumentsError, UnknownSessionError, NewConfigNoQuorumError,
    ReconfigInProgressError, APIError, NoNodeError, NoAuthError, BadVersionError, NoChildrenForEphemeralsError,
    NodeExistsError, NotEmptyError, SessionExpiredError, InvalidCallbackError, InvalidACLError, AuthFailedError,
    SessionMovedError, NotReadOnlyError, EphemeralOnLocalSessionError, NoWatcherError, RequestTimeoutError,
    ReconfigDisabledError, SessionClosedRequireSaslAuthError, QuotaExceededError, ThrottledOpError, HistoryPurgedError,
  ].map((c) => [c.CODE, c]),
);

/** The typed error for a reply's err code. Never throws, whatever the code. */
export function errorFromCode(code: number, path?: string): ZkError {
  const cls = byCode.get(code);
  const opts = path !== undefined ? { path } : {};
  return cls ? new cls(undefined, opts) : new ZkError(code, undefined, opts);
}

/** The class registered for a code, if any (for callers that want to match on codes). */
export function errorClassFor(code: number): ZkErrorClass | undefined {
  return byCode.get(code);
}

/**
 * The call's AbortSignal fired. If the request had already been written, the server still
 * executes it: the outcome is unknown, as with ConnectionLoss.
 */
export class AbortError extends Error {
  constructor(reason?: unknown) {
    super('the operation was aborted', reason !== undefined ? { cause: reason } : undefined);
    this.name = 'AbortError';
  }
}

/** The client was closed (by close(), or before the first connection succeeded). */
export class ClientClosedError extends Error {
  constructor(message = 'client is closed') {
    super(message);
    this.name = 'ClientClosedError';
  }
}

/** The first connect() did not reach any server within connectTimeoutMs. */
export class ConnectTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectTimeoutError';
  }
}

/** A persistent watch's bounded buffer overflowed with overflow policy 'error'; resync and re-watch. */
export class WatchOverflowError extends Error {
  constructor(readonly path: string, readonly bufferSize: number) {
    super(`watch buffer for ${path} overflowed (${bufferSize} events)`);
    this.name = 'WatchOverflowError';
  }
}
