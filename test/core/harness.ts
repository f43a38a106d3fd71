import { OpCode } from '../../protocol/jute/constants';
import { OPEN_ACL_UNSAFE, type ACL, type Id } from '../../protocol/jute/data';
import { Prep, type PrepContext } from '../../src/pipeline/prep';
import { applyTxn, createDatabase, type ApplyResult, type Txn, type ZkDatabase } from '../../src/tree';
import type { WatchEvent } from '../../src/tree/events';

export const SESSION = 0x100000000n;
export const OPEN: ACL[] = OPEN_ACL_UNSAFE.map((a) => ({ perms: a.perms, id: { ...a.id } }));

export interface Session {
  id: bigint;
  authIds: readonly Id[];
}

/**
 * A single-server write path in miniature: prep assigns zxids in order, `commit` applies the
 * oldest prepped txn and tells prep, exactly as the server does.
 */
export class Harness {
  readonly db: ZkDatabase = createDatabase();
  readonly prep = new Prep(this.db);
  zxid = 0n;
  now = 1_000n;
  ttlEnabled = true;
  maxDataBytes: number | undefined = undefined;
  readonly queue: Txn[] = [];

  /**
   * Sessions the test did not open (or already closed) are taken as live, created long ago, unless
   * it says otherwise: tests of checkSession turn this off.
   */
  implicitSessions = true;

  ctx(session: Session = { id: SESSION, authIds: [] }): PrepContext {
    if (this.implicitSessions && session.id !== 0n && !this.db.sessions.has(session.id)) {
      this.db.sessions.set(session.id, { timeoutMs: 30000, passwd: Buffer.alloc(16, 1) });
    }
    return { zxid: ++this.zxid, now: this.now, session, ttlEnabled: this.ttlEnabled, maxDataBytes: this.maxDataBytes };
  }

  /** Prep only; the txn waits until `commit`. */
  submit(opCode: number, body: unknown, session?: Session): Txn {
    const txn = this.prep.prep({ opCode, body }, this.ctx(session));
    this.queue.push(txn);
    return txn;
  }

  openSession(id: bigint = SESSION): void {
    this.queue.push(this.prep.prepCreateSession({ sessionId: id, timeoutMs: 30000, passwd: Buffer.alloc(16, 1) }, { zxid: ++this.zxid, now: this.now }));
    this.commitAll();
  }

  closeSession(id: bigint = SESSION): { result: ApplyResult; events: WatchEvent[] } {
    this.queue.push(this.prep.prepCloseSession(id, { zxid: ++this.zxid, now: this.now }));
    return this.commitAll().pop()!;
  }

  commit(): { txn: Txn; result: ApplyResult; events: WatchEvent[] } {
    const txn = this.queue.shift();
    if (!txn) throw new Error('nothing to commit');
    const out = applyTxn(this.db, txn);
    this.prep.committed(txn.zxid);
    return { txn, ...out };
  }

  commitAll(): { txn: Txn; result: ApplyResult; events: WatchEvent[] }[] {
    const out = [];
    while (this.queue.length > 0) out.push(this.commit());
    return out;
  }

  /** Prep + apply at once. */
  write(opCode: number, body: unknown, session?: Session): { txn: Txn; result: ApplyResult; events: WatchEvent[] } {
    this.submit(opCode, body, session);
    return this.commitAll().pop()!;
  }

  create(path: string, opts: { data?: Buffer | null; flags?: number; acl?: ACL[]; session?: Session; opCode?: number; ttl?: bigint } = {}) {
    const body: Record<string, unknown> = { path, data: opts.data === undefined ? Buffer.from('d') : opts.data, acl: opts.acl ?? OPEN, flags: opts.flags ?? 0 };
    if (opts.ttl !== undefined) body.ttl = opts.ttl;
    return this.write(opts.opCode ?? OpCode.create2, body, opts.session);
  }

  del(path: string, version = -1, session?: Session) {
    return this.write(OpCode.delete, { path, version }, session);
  }

  setData(path: string, data: Buffer | null, version = -1, session?: Session) {
    return this.write(OpCode.setData, { path, data, version }, session);
  }
}
