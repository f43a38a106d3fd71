/**
 * The `org.apache.zookeeper.data` records (Id, ACL, Stat, ClientInfo) as plain TypeScript types.
 * 64-bit fields are bigint everywhere: zxids and session ids do not fit in a double.
 */

export interface Id {
  scheme: string;
  id: string;
}

export interface ACL {
  perms: number;
  id: Id;
}

/** Stat: 68 bytes on the wire, fields in wire order. */
export interface Stat {
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: bigint;
}

export interface ClientInfo {
  authScheme: string;
  user: string;
}

export const OPEN_ACL_UNSAFE: readonly ACL[] = Object.freeze([{ perms: 31, id: { scheme: 'world', id: 'anyone' } }]);
export const CREATOR_ALL_ACL: readonly ACL[] = Object.freeze([{ perms: 31, id: { scheme: 'auth', id: '' } }]);
export const READ_ACL_UNSAFE: readonly ACL[] = Object.freeze([{ perms: 1, id: { scheme: 'world', id: 'anyone' } }]);

export function emptyStat(): Stat {
  return {
    czxid: 0n, mzxid: 0n, ctime: 0n, mtime: 0n, version: 0, cversion: 0, aversion: 0,
    ephemeralOwner: 0n, dataLength: 0, numChildren: 0, pzxid: 0n,
  };
}
