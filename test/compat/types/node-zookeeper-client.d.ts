/** The subset of node-zookeeper-client 1.1.3 the compat tests use (the package ships no typings). */
declare module 'node-zookeeper-client' {
  export interface Stat {
    czxid: Buffer;
    mzxid: Buffer;
    ctime: Buffer;
    mtime: Buffer;
    version: number;
    cversion: number;
    aversion: number;
    ephemeralOwner: Buffer;
    dataLength: number;
    numChildren: number;
    pzxid: Buffer;
  }
  export class Id {
    constructor(scheme: string, id: string);
    scheme: string;
    id: string;
  }
  export class ACL {
    constructor(permission: number, id: Id);
    static OPEN_ACL_UNSAFE: ACL[];
    permission: number;
    id: Id;
  }
  export interface Event {
    type: number;
    name: string;
    path: string;
    getType(): number;
    getName(): string;
    getPath(): string;
  }
  export interface ZkError extends Error {
    code: number;
    getCode(): number;
  }
  type Cb<T> = (error: ZkError | null, result: T) => void;
  export interface OpResult {
    type: number;
    path?: string;
    stat?: Stat;
    err?: number;
  }
  export interface Transaction {
    create(path: string, data?: Buffer, acls?: ACL[], mode?: number): Transaction;
    setData(path: string, data: Buffer | null, version?: number): Transaction;
    check(path: string, version?: number): Transaction;
    remove(path: string, version?: number): Transaction;
    commit(cb: (error: ZkError | null, results: OpResult[]) => void): void;
  }
  export interface Client {
    connect(): void;
    close(): void;
    once(ev: 'connected' | 'disconnected' | 'expired' | 'authenticationFailed', cb: () => void): this;
    on(ev: 'connected' | 'disconnected' | 'expired' | 'authenticationFailed', cb: () => void): this;
    getSessionId(): Buffer;
    getSessionTimeout(): number;
    addAuthInfo(scheme: string, auth: Buffer): void;
    create(path: string, data: Buffer | null, acls: ACL[], mode: number, cb: Cb<string>): void;
    create(path: string, data: Buffer | null, cb: Cb<string>): void;
    create(path: string, cb: Cb<string>): void;
    remove(path: string, version: number, cb: (error: ZkError | null) => void): void;
    setData(path: string, data: Buffer | null, version: number, cb: Cb<Stat>): void;
    getData(path: string, watcher: ((e: Event) => void) | undefined, cb: (error: ZkError | null, data: Buffer, stat: Stat) => void): void;
    exists(path: string, watcher: ((e: Event) => void) | undefined, cb: Cb<Stat | null>): void;
    getChildren(path: string, watcher: ((e: Event) => void) | undefined, cb: (error: ZkError | null, children: string[], stat: Stat) => void): void;
    getACL(path: string, cb: (error: ZkError | null, acls: ACL[], stat: Stat) => void): void;
    setACL(path: string, acls: ACL[], version: number, cb: Cb<Stat>): void;
    mkdirp(path: string, cb: Cb<string>): void;
    transaction(): Transaction;
  }
  export function createClient(connectionString: string, options?: { sessionTimeout?: number; spinDelay?: number; retries?: number }): Client;
  export const CreateMode: { PERSISTENT: 0; EPHEMERAL: 1; PERSISTENT_SEQUENTIAL: 2; EPHEMERAL_SEQUENTIAL: 3 };
  export const Permission: { READ: 1; WRITE: 2; CREATE: 4; DELETE: 8; ADMIN: 16; ALL: 31 };
  export const Event: { NODE_CREATED: 1; NODE_DELETED: 2; NODE_DATA_CHANGED: 3; NODE_CHILDREN_CHANGED: 4 };
  export const Exception: { NO_NODE: -101; NODE_EXISTS: -110; BAD_VERSION: -103; NO_AUTH: -102; NOT_EMPTY: -111; RUNTIME_INCONSISTENCY: -2 };
}
