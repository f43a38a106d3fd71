import { createHash, type Hash } from 'node:crypto';
import type { ACL } from '../../protocol/jute/data';
import { DataTree, RAW_CTIME, RAW_CZXID, RAW_MTIME, RAW_MZXID, RAW_OWNER, RAW_PZXID, aclKey, emptyRow, type NodeKind, type NodeRow, type ZNode } from './datatree';
import type { SessionRecord, ZkDatabase } from './database';
import { recountAllQuotas } from './quota';
import { copyBytes } from './arena';

/*
 * Snapshot body format 3: a stream of records, cut into chunks (each chunk holds whole records, so
 * any prefix of chunks decodes on its own — SNAP is decoded as it arrives). Storage adds a CRC per
 * chunk and a checksum over the body; this layer only defines the bytes. Integers are big-endian;
 * varints are unsigned LEB128, signed ones zigzag-encoded.
 *
 *   HEADER  0x01 'ZKS3' u8 version=3 i64 zxid
 *   SESSION 0x02 i64 id, varint timeoutMs, varint n, n bytes passwd
 *   ACL     0x03 varint index, varint count, count x (varint perms, str scheme, str id)   (before first use)
 *   NODE    0x04 u8 flags, varint shared, str suffix (the path is the previous NODE path's first
 *           `shared` bytes + suffix), varint acl, i64 czxid, i64 ctime, [i64 mzxid] [i64 pzxid]
 *           [i64 mtime] (absent when equal to czxid / czxid / ctime), zigzag version, cversion,
 *           aversion, [i64 ephemeralOwner] [i64 ttl], [str data]
 *   END     0x7f varint nodes, varint sessions
 * NODE flags: bits 0-1 kind, 2 data is null, 3 mzxid differs, 4 pzxid differs, 5 mtime differs,
 * 6 owner non-zero, 7 has ttl. A fresh 100-byte znode costs about 135 bytes (ZooKeeper's ~195).
 */
const FORMAT = 3;
const MAGIC = 0x5a4b5333; // 'ZKS3'
const T = { header: 0x01, session: 0x02, acl: 0x03, node: 0x04, end: 0x7f } as const;
const KINDS: readonly NodeKind[] = ['persistent', 'ephemeral', 'container', 'ttl'];
const F = { nullData: 4, mzxid: 8, pzxid: 16, mtime: 32, owner: 64, ttl: 128 } as const;
/** The smallest NODE record: tag, flags, shared, suffix length, acl, czxid, ctime, three versions. */
const MIN_NODE_RECORD = 24;
/** Chunks are cut at about this size (a record is never split, so one huge value makes a big chunk). */
export const SNAPSHOT_CHUNK_TARGET = 256 * 1024;

/** Whether two 64-bit fields of a raw row hold the same words. */
function sameWords(raw: Int32Array, a: number, b: number): boolean {
  return raw[a] === raw[b] && raw[a + 1] === raw[b + 1];
}

/** Growable output buffer with the few encodings the format needs. */
class Out {
  buf = Buffer.allocUnsafe(SNAPSHOT_CHUNK_TARGET + 4096);
  /** Over `buf`: DataView.setBigInt64 allocates nothing, Buffer.writeBigInt64BE makes bigints per call. */
  view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  len = 0;

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.length);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v;
  }

  u32(v: number): void {
    this.ensure(4);
    this.len = this.buf.writeUInt32BE(v, this.len);
  }

  i64(v: bigint): void {
    this.ensure(8);
    this.view.setBigInt64(this.len, v);
    this.len += 8;
  }

  /** The 64-bit field at raw[at] (low word) and raw[at + 1] (high word), as i64 writes it. */
  i64Words(raw: Int32Array, at: number): void {
    this.ensure(8);
    this.view.setInt32(this.len, raw[at + 1]!);
    this.view.setInt32(this.len + 4, raw[at]!);
    this.len += 8;
  }

  varint(v: number): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }

  zigzag(v: number): void {
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  bytes(b: Uint8Array): void {
    this.range(b, 0, b.length);
  }

  /**
   * Length-prefixed src[start, end). With `srcView` (a DataView over all of src: the arena's, for a
   * scan row's value) four bytes at a time; subarray (and Buffer.copy, which makes one) would
   * allocate a view per row of a million-row scan, and a byte loop costs 250 ns per 100-byte value.
   */
  range(src: Uint8Array, start: number, end: number, srcView?: DataView): void {
    const n = end - start;
    this.varint(n);
    this.ensure(n);
    copyBytes(this.buf, this.view, this.len, src, start, n, srcView);
    this.len += n;
  }

  str(s: string): void {
    const n = Buffer.byteLength(s);
    this.varint(n);
    this.ensure(n);
    this.len += this.buf.write(s, this.len);
  }

  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.len));
    this.len = 0;
    return out;
  }
}

/**
 * Turns a database into snapshot chunks, row by row (pure; the shell feeds it rows from
 * DataTree.scanRows across event-loop turns and stores or sends each chunk).
 */
export class SnapshotEncoder {
  private readonly out = new Out();
  private readonly chunks: Buffer[] = [];
  private readonly aclIndex = new Map<ACL[], number>();
  private readonly aclByKey = new Map<string, number>();
  /** This and the previous node's path bytes (swapped per node: no allocation per row). */
  private pathBuf = Buffer.allocUnsafe(1024);
  private prevBuf = Buffer.allocUnsafe(1024);
  private prevLen = 0;
  private nodes = 0;
  private sessions = 0;

  /** `sessions` are encoded now; pass none and call addSession to spread many over several turns. */
  constructor(readonly zxid: bigint, sessions: Iterable<[bigint, SessionRecord]> = []) {
    const o = this.out;
    o.u8(T.header);
    o.u32(MAGIC);
    o.u8(FORMAT);
    o.i64(zxid);
    for (const [id, s] of sessions) this.addSession(id, s);
  }

  addSession(id: bigint, s: SessionRecord): void {
    const o = this.out;
    o.u8(T.session);
    o.i64(id);
    o.varint(s.timeoutMs);
    o.bytes(s.passwd);
    this.sessions++;
    this.cut();
  }

  addRow(r: NodeRow): void {
    const o = this.out;
    const acl = this.aclRef(r.acl);
    const ref = r.pathRef;
    const need = ref ? ref.len : Buffer.byteLength(r.path);
    if (need > this.pathBuf.length) this.pathBuf = Buffer.allocUnsafe(need * 2);
    const path = this.pathBuf;
    let len: number;
    if (ref) {
      // Not Buffer.copy: it makes a view of a partial source, once per row.
      const { buf, start } = ref;
      len = ref.len;
      for (let i = 0; i < len; i++) path[i] = buf[start + i];
    } else len = path.write(r.path, 0);
    const prev = this.prevBuf;
    let shared = 0;
    const max = Math.min(len, this.prevLen);
    while (shared < max && path[shared] === prev[shared]) shared++;
    this.pathBuf = prev.length >= len ? prev : Buffer.allocUnsafe(len * 2);
    this.prevBuf = path;
    this.prevLen = len;
    const raw = r.raw;
    let flags = KINDS.indexOf(r.kind);
    if (r.data === null) flags |= F.nullData;
    if (raw ? !sameWords(raw, RAW_MZXID, RAW_CZXID) : r.mzxid !== r.czxid) flags |= F.mzxid;
    if (raw ? !sameWords(raw, RAW_PZXID, RAW_CZXID) : r.pzxid !== r.czxid) flags |= F.pzxid;
    if (raw ? !sameWords(raw, RAW_MTIME, RAW_CTIME) : r.mtime !== r.ctime) flags |= F.mtime;
    if (raw ? (raw[RAW_OWNER]! | raw[RAW_OWNER + 1]!) !== 0 : r.ephemeralOwner !== 0n) flags |= F.owner;
    if (r.ttl !== undefined) flags |= F.ttl;
    o.u8(T.node);
    o.u8(flags);
    o.varint(shared);
    o.range(path, shared, len);
    o.varint(acl);
    if (raw) {
      o.i64Words(raw, RAW_CZXID);
      o.i64Words(raw, RAW_CTIME);
      if (flags & F.mzxid) o.i64Words(raw, RAW_MZXID);
      if (flags & F.pzxid) o.i64Words(raw, RAW_PZXID);
      if (flags & F.mtime) o.i64Words(raw, RAW_MTIME);
    } else {
      o.i64(r.czxid);
      o.i64(r.ctime);
      if (flags & F.mzxid) o.i64(r.mzxid);
      if (flags & F.pzxid) o.i64(r.pzxid);
      if (flags & F.mtime) o.i64(r.mtime);
    }
    o.zigzag(r.version);
    o.zigzag(r.cversion);
    o.zigzag(r.aversion);
    // Container and TTL markers read back unsigned; stored as the same 64 bits.
    if (flags & F.owner) {
      if (raw) o.i64Words(raw, RAW_OWNER);
      else o.i64(BigInt.asIntN(64, r.ephemeralOwner));
    }
    if (flags & F.ttl) o.i64(r.ttl!);
    const dref = r.dataRef;
    if (r.data !== null) {
      if (dref) o.range(dref.buf, dref.start, dref.start + dref.len, dref.view);
      else o.bytes(r.data);
    }
    this.nodes++;
    this.cut();
  }

  /** Chunks completed so far (each taken once). */
  takeChunks(): Buffer[] {
    return this.chunks.splice(0);
  }

  /** Ends the stream; returns the remaining chunks. */
  finish(): Buffer[] {
    this.out.u8(T.end);
    this.out.varint(this.nodes);
    this.out.varint(this.sessions);
    this.chunks.push(this.out.take());
    return this.takeChunks();
  }

  /** ACL lists are defined once, before the first node that uses them. */
  private aclRef(acl: ACL[]): number {
    let idx = this.aclIndex.get(acl);
    if (idx !== undefined) return idx;
    const key = aclKey(acl);
    idx = this.aclByKey.get(key);
    if (idx === undefined) {
      idx = this.aclByKey.size;
      this.aclByKey.set(key, idx);
      const o = this.out;
      o.u8(T.acl);
      o.varint(idx);
      o.varint(acl.length);
      for (const a of acl) {
        o.varint(a.perms);
        o.str(a.id.scheme);
        o.str(a.id.id);
      }
    }
    this.aclIndex.set(acl, idx);
    return idx;
  }

  private cut(): void {
    if (this.out.len >= SNAPSHOT_CHUNK_TARGET) this.chunks.push(this.out.take());
  }
}

/** Reads records out of one chunk; every read is bounds-checked (a damaged body must throw, not wrap). */
class In {
  off = 0;
  /** Where the byte string `span` skipped starts. */
  spanStart = 0;
  /** 64-bit fields are read through it (DataView.getBigInt64 is about 3x faster than Buffer's readBigInt64BE), values copied. */
  readonly dataView: DataView;

  constructor(private readonly buf: Buffer) {
    this.dataView = new DataView(buf.buffer, buf.byteOffset, buf.length);
  }

  get done(): boolean {
    return this.off >= this.buf.length;
  }

  private need(n: number): void {
    if (this.off + n > this.buf.length) throw new Error('snapshot record runs past the end of its chunk');
  }

  u8(): number {
    this.need(1);
    return this.buf[this.off++];
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }

  i64(): bigint {
    this.need(8);
    const v = this.dataView.getBigInt64(this.off);
    this.off += 8;
    return v;
  }

  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 0x80;
    }
    throw new Error('snapshot varint too long');
  }

  zigzag(): number {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }

  bytes(): Buffer {
    const n = this.varint();
    this.need(n);
    const b = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return b;
  }

  str(): string {
    return this.bytes().toString('utf8');
  }

  /** Skips a length-prefixed byte string and returns its length; it starts at `spanStart` (no view, no tuple per call). */
  span(): number {
    const n = this.varint();
    this.need(n);
    this.spanStart = this.off;
    this.off += n;
    return n;
  }

  copyTo(target: Buffer, at: number, start: number, n: number): void {
    // Path suffixes are a few bytes: a loop beats Buffer.copy, which makes a view per call.
    if (n <= 64) for (let i = 0; i < n; i++) target[at + i] = this.buf[start + i];
    else this.buf.copy(target, at, start, start + n);
  }

  get source(): Buffer {
    return this.buf;
  }
}

/**
 * Rebuilds a database from snapshot chunks fed in order, one chunk at a time (so a SNAP can be
 * decoded while it streams, each chunk a bounded piece of work). Values are copied into the new
 * tree's slabs, so chunks are not retained.
 */
export class SnapshotDecoder {
  private readonly tree = new DataTree();
  private readonly sessions = new Map<bigint, SessionRecord>();
  private readonly acls: ACL[][] = [];
  private zxid: bigint | undefined;
  private path = Buffer.alloc(1024);
  private pathLen = 0;
  private nodes = 0;
  private ended = false;
  /** One row object reused for every node (loadRow copies what it keeps). */
  private readonly row: NodeRow = emptyRow();
  private readonly value: { src: Buffer; view: DataView | undefined; start: number; len: number } = { src: Buffer.alloc(0), view: undefined, start: 0, len: 0 };
  private readonly pathRef: { buf: Buffer; len: number } = { buf: Buffer.alloc(0), len: 0 };
  private readonly bulk: boolean;

  /**
   * With `expectNodes` (a body loaded from disk: see `expectedNodes`) the tree is sized up front and
   * its paths indexed all at once at the end, the cheapest way; without (a SNAP decoded as it
   * streams) they are indexed chunk by chunk, so no one turn indexes the whole tree. The end
   * record's count is checked either way.
   */
  constructor(expectNodes?: number) {
    this.bulk = expectNodes !== undefined;
    if (expectNodes) this.tree.reserve(expectNodes);
  }

  push(chunk: Buffer): void {
    if (this.ended) throw new Error('snapshot has data after its end record');
    const r = new In(chunk);
    while (!r.done) {
      const tag = r.u8();
      if (this.zxid === undefined && tag !== T.header) throw new Error('snapshot does not start with its header');
      if (tag === T.node) this.node(r);
      else if (tag === T.acl) this.acl(r);
      else if (tag === T.session) this.sessions.set(r.i64(), { timeoutMs: r.varint(), passwd: Buffer.from(r.bytes()) });
      else if (tag === T.header) this.header(r);
      else if (tag === T.end) this.end(r);
      else throw new Error(`unknown snapshot record 0x${tag.toString(16)}`);
    }
    if (!this.bulk) this.tree.indexLoadedRows();
  }

  finish(): ZkDatabase {
    if (!this.ended || this.zxid === undefined) throw new Error('snapshot is truncated (no end record)');
    this.tree.finishLoad();
    // ZooKeeper's setupQuota: usage is recounted at every load, so stats nodes can never drift.
    recountAllQuotas(this.tree);
    return { tree: this.tree, sessions: this.sessions, lastProcessedZxid: this.zxid };
  }

  private header(r: In): void {
    if (this.zxid !== undefined) throw new Error('snapshot has two headers');
    if (r.u32() !== MAGIC) throw new Error('not a zabkeeper snapshot (bad magic)');
    const format = r.u8();
    if (format !== FORMAT) throw new Error(`unsupported snapshot format ${format} (this build reads ${FORMAT})`);
    this.zxid = r.i64();
  }

  private acl(r: In): void {
    const idx = r.varint();
    if (idx !== this.acls.length) throw new Error(`snapshot ACL ${idx} out of order`);
    const n = r.varint();
    const acl: ACL[] = [];
    for (let i = 0; i < n; i++) acl.push({ perms: r.varint(), id: { scheme: r.str(), id: r.str() } });
    this.acls.push(acl);
  }

  private node(r: In): void {
    const row = this.row;
    const flags = r.u8();
    const shared = r.varint();
    if (shared > this.pathLen) throw new Error('snapshot path prefix out of range');
    const n = r.span();
    const start = r.spanStart;
    const len = shared + n;
    if (len > this.path.length) {
      const bigger = Buffer.alloc(len * 2);
      this.path.copy(bigger, 0, 0, shared);
      this.path = bigger;
    }
    r.copyTo(this.path, shared, start, n);
    this.pathLen = len;
    // The tree indexes the path's bytes directly: no string per node.
    this.pathRef.buf = this.path;
    this.pathRef.len = len;
    const acl = this.acls[r.varint()];
    if (!acl) throw new Error(`snapshot node ${this.path.toString('utf8', 0, len)} refers to a missing ACL`);
    row.acl = acl;
    row.kind = KINDS[flags & 3];
    row.czxid = r.i64();
    row.ctime = r.i64();
    row.mzxid = flags & F.mzxid ? r.i64() : row.czxid;
    row.pzxid = flags & F.pzxid ? r.i64() : row.czxid;
    row.mtime = flags & F.mtime ? r.i64() : row.ctime;
    row.version = r.zigzag();
    row.cversion = r.zigzag();
    row.aversion = r.zigzag();
    row.ephemeralOwner = flags & F.owner ? r.i64() : 0n;
    row.ttl = flags & F.ttl ? r.i64() : undefined;
    row.data = null;
    if (flags & F.nullData) this.tree.loadRow(row, undefined, this.pathRef);
    else {
      // The value is copied straight from the chunk into the tree's slabs.
      this.value.len = r.span();
      this.value.src = r.source;
      this.value.view = r.dataView;
      this.value.start = r.spanStart;
      this.tree.loadRow(row, this.value, this.pathRef);
    }
    this.nodes++;
  }

  private end(r: In): void {
    const nodes = r.varint();
    const sessions = r.varint();
    if (nodes !== this.nodes || sessions !== this.sessions.size) {
      throw new Error(`snapshot end record says ${nodes} nodes and ${sessions} sessions, body has ${this.nodes} and ${this.sessions.size}`);
    }
    this.ended = true;
  }
}

/**
 * How many nodes a snapshot body holds, read from the end record at the tail of its last chunk
 * (`bodyBytes` is the body's size): the loader sizes the tree for them before decoding. Only a
 * hint, bounded by what the body could hold; undefined when the tail is not an end record.
 */
export function expectedNodes(lastChunk: Uint8Array, bodyBytes: number): number | undefined {
  // END is 0x7f, varint nodes, varint sessions. Read backwards: a varint's last byte is below 0x80
  // and every other byte of it is not, so the three fields split unambiguously.
  const start = (end: number): number => {
    let i = end - 1;
    while (i >= 0 && lastChunk[i] >= 0x80) i--;
    return i + 1;
  };
  const sessionsAt = start(lastChunk.length - 1);
  const nodesAt = start(sessionsAt - 1);
  if (lastChunk.length === 0 || lastChunk[lastChunk.length - 1] >= 0x80 || sessionsAt < 2 || nodesAt < 1 || lastChunk[nodesAt - 1] !== T.end || sessionsAt - nodesAt > 8) return undefined;
  const nodes = new In(Buffer.from(lastChunk.buffer, lastChunk.byteOffset + nodesAt, sessionsAt - nodesAt)).varint();
  return Math.min(nodes, Math.floor(bodyBytes / MIN_NODE_RECORD));
}

/** The whole database as snapshot chunks, synchronously (tests and small trees; servers scan across turns). */
export function snapshotChunks(db: ZkDatabase): Buffer[] {
  const enc = new SnapshotEncoder(db.lastProcessedZxid, db.sessions);
  const chunks: Buffer[] = [];
  db.tree.beginScan(db.lastProcessedZxid);
  try {
    while (!db.tree.scanEach(65536, (r) => enc.addRow(r))) for (const c of enc.takeChunks()) chunks.push(c);
  } finally {
    db.tree.endScan();
  }
  return [...chunks, ...enc.takeChunks(), ...enc.finish()];
}

/** The whole database as one buffer (the chunks concatenated). */
export function serializeSnapshot(db: ZkDatabase): Buffer {
  return Buffer.concat(snapshotChunks(db));
}

/** Rebuilds a database from `serializeSnapshot` output (or the chunks of a body, concatenated). */
export function deserializeSnapshot(buf: Buffer): ZkDatabase {
  const d = new SnapshotDecoder(expectedNodes(buf, buf.length) ?? 0);
  d.push(buf);
  return d.finish();
}

const STAT_FIELDS = ['czxid', 'mzxid', 'ctime', 'mtime', 'version', 'cversion', 'aversion', 'ephemeralOwner', 'dataLength', 'numChildren', 'pzxid'] as const;

/**
 * A hash of every node's path, stat, kind, data and ACL, independent of insertion order: equal
 * digests at equal zxids is how replicas (and replay) are checked against each other.
 */
export function treeDigest(db: ZkDatabase): string {
  const h = createHash('sha256');
  for (const path of [...db.tree.paths()].sort()) hashNode(h, path, db.tree.get(path)!);
  return h.digest('hex');
}

/** One node's part of a digest: path, stat, kind, value and ACL. */
function hashNode(h: Hash, path: string, n: ZNode): void {
  h.update(path).update('\0');
  h.update(STAT_FIELDS.map((f) => String(n.stat[f])).join(',')).update('\0');
  h.update(`${n.kind}:${n.ttl ?? ''}`).update('\0');
  h.update(n.data === null ? '-' : `${n.data.length}:`);
  if (n.data) h.update(n.data);
  h.update(aclKey(n.acl)).update('\n');
}

/**
 * A 64-bit hash of one node (0 when absent), the same fields `treeDigest` covers. Summed modulo
 * 2^64 over all nodes it gives an order-free digest that can be kept up to date per txn by
 * re-hashing only the nodes the txn touched (ZooKeeper's DigestCalculator works the same way).
 */
export function nodeHash(db: ZkDatabase, path: string): bigint {
  const n = db.tree.get(path);
  if (!n) return 0n;
  const h = createHash('sha1');
  hashNode(h, path, n);
  return h.digest().readBigUInt64BE(0);
}

/**
 * ContainerManager's rule for one candidate: a container that once had a child and now has none,
 * or a childless TTL node not modified for longer than its TTL, should be deleted.
 */
export function isExpiredContainerOrTtl(db: ZkDatabase, path: string, now: bigint): boolean {
  const n = db.tree.get(path);
  if (!n || n.stat.numChildren !== 0) return false;
  if (n.kind === 'container') return n.stat.cversion > 0;
  return n.kind === 'ttl' && n.ttl !== undefined && now - n.stat.mtime > n.ttl;
}

/** Every container and TTL node housekeeping should delete now (sorted; tests and small trees). */
export function findExpiredContainersAndTtls(db: ZkDatabase, now: bigint): string[] {
  return [...db.tree.containers, ...db.tree.ttls].filter((p) => isExpiredContainerOrTtl(db, p, now)).sort();
}
