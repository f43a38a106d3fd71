import { ErrorCode, errorCodeName } from '../../protocol/jute/constants';

/**
 * An error that carries a KeeperException code, for code paths that answer a request with an
 * error (pure modules throw it; the shell turns it into a reply header).
 */
export class ZkError extends Error {
  readonly code: number;

  constructor(code: number, message?: string, options?: { cause?: unknown }) {
    super(message ?? codeName(code), options);
    this.name = 'ZkError';
    this.code = code;
  }

  get codeName(): string {
    return codeName(this.code);
  }
}

/** "noNode" for -101; "unknown(-999)" outside the table. */
export function codeName(code: number): string {
  return errorCodeName.get(code) ?? `unknown(${code})`;
}

export function isZkError(err: unknown, code?: number): err is ZkError {
  return err instanceof ZkError && (code === undefined || err.code === code);
}

/** Throws ZkError(code) unless cond holds. */
export function zkAssert(cond: unknown, code: number, message?: string): asserts cond {
  if (!cond) throw new ZkError(code, message);
}

export const noNode = (path: string): ZkError => new ZkError(ErrorCode.noNode, `no node ${path}`);
export const nodeExists = (path: string): ZkError => new ZkError(ErrorCode.nodeExists, `node ${path} exists`);
export const badArguments = (why: string): ZkError => new ZkError(ErrorCode.badArguments, why);
export const noAuth = (path: string): ZkError => new ZkError(ErrorCode.noAuth, `not authorised for ${path}`);

/** Message text of any thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
