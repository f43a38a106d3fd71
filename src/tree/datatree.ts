import type { ACL, Stat } from '../../protocol/jute/data';
import { NULL_VALUE, ValueArena } from './arena';
import { PathIndex } from './pathindex';
import { grownColumn } from './columns';
import { parentOf } from './paths';

/** How a node lives and dies: ZooKeeper's CreateMode collapsed to what the tree needs. */
export type NodeKind = 'persistent' | 'ephemeral' | 'container' | 'ttl';
const KINDS: readonly NodeKind[] = ['persistent', 'ephemeral', 'container', 'ttl'];
const KIND_CODE: Readonly<Record<NodeKind, number>> = { persistent: 0, ephemeral: 1, container: 2, ttl: 3 };

/**
 * One znode as read from the tree: a copy made on each `get`, so changing it changes nothing (the
 * tree is changed only through its methods, by `applyTxn`). `stat` is exactly what clients see
 * except `ephemeralOwner`, which holds the raw owner (session id, or the container/TTL marker);
 * use `copyStat` for the wire form.
 *
 * `stat.cversion` is the client-visible value (child creates + child deletes). ZooKeeper stores only
 * the create counter and shows `2 * stored - numChildren`; both views are kept consistent because
 * the stored counter is always `(cversion + numChildren) / 2` (see `childCreates`).
 */
export interface ZNode {
  readonly data: Buffer | null;
  /** Shared and never mutated: setACL replaces the list. */
  readonly acl: ACL[];
  readonly stat: Readonly<Stat>;
  readonly kind: NodeKind;
  /** TTL in ms for kind 'ttl'. */
  readonly ttl?: bigint;
}

/** What a new node is made of (ZooKeeper's createStat values follow from zxid and time). */
export interface NodeInit {
  data: Buffer | null;
  acl: ACL[];
  zxid: bigint;
  time: bigint;
  ephemeralOwner: bigint;
  kind: NodeKind;
  ttl?: bigint;
}

/** A node with every stored field: what snapshots hold (numChildren and dataLength are implied). */
export interface NodeRow {
  /** The path; rows from a snapshot scan leave it '' and carry `pathRef` instead (no string made). */
  path: string;
  /** Where the path's UTF-8 bytes are (scan rows): read them during the callback, do not keep. */
  pathRef?: { buf: Buffer; start: number; len: number };
  /** Scan rows with a value leave this a placeholder and carry `dataRef` (no view made per row). */
  data: Buffer | null;
  /** Where the value's bytes are (scan rows; meaningless when `data` is null): read them during the callback. */
  dataRef?: { buf: Buffer; start: number; len: number; view?: DataView };
  /**
   * Scan rows: czxid, mzxid, pzxid, ctime, mtime and the stored owner as little-endian int32 pairs
   * (lo, hi), RAW_* below, and those six bigint fields are then not set. Reading a BigInt64Array
   * element makes a bigint: six per row were 474 MB of garbage per two 1M-row scans.
   */
  raw?: Int32Array;
  acl: ACL[];
  kind: NodeKind;
  ttl: bigint | undefined;
  czxid: bigint;
  mzxid: bigint;
  pzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
}

/** ZooKeeper's stored child counter: how many children were ever created (the sequential suffix). */
export function childCreates(stat: Readonly<Stat>): number {
  return (stat.cversion + stat.numChildren) / 2;
}

/** The Stat a client sees: container and TTL markers are reported as owner 0 (DataNode.copyStat). */
export function copyStat(node: ZNode): Stat {
  const s = { ...node.stat };
  if (node.kind === 'container' || node.kind === 'ttl') s.ephemeralOwner = 0n;
  return s;
}

const NONE = -1;
const EMPTY_BUF = Buffer.alloc(0);

/** A row to be filled in (snapshot scans and loads reuse one). */
export function emptyRow(): NodeRow {
  return {
    path: '', data: null, acl: [], kind: 'persistent', ttl: undefined, czxid: 0n, mzxid: 0n, pzxid: 0n, ctime: 0n, mtime: 0n,
    version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n,
  };
}

/** ACL lists interned with reference counts: nearly every node shares one of a handful. */
class AclTable {
  private lists: (ACL[] | undefined)[] = [];
  private refs: number[] = [];
  /** Bumped when an index is freed, so a stale byRef entry is never trusted. */
  private gens: number[] = [];
  private readonly byKey = new Map<string, number>();
  /** The same list object again (snapshot loading passes one per ACL) skips building its key. */
  private readonly byRef = new WeakMap<ACL[], { idx: number; gen: number }>();
  private free: number[] = [];

  intern(acl: ACL[]): number {
    const known = this.byRef.get(acl);
    if (known && this.gens[known.idx] === known.gen && this.lists[known.idx] !== undefined) {
      this.refs[known.idx]++;
      return known.idx;
    }
    const key = aclKey(acl);
    let idx = this.byKey.get(key);
    if (idx === undefined) {
      idx = this.free.pop() ?? this.lists.length;
      this.lists[idx] = acl;
      this.refs[idx] = 0;
      this.gens[idx] ??= 0;
      this.byKey.set(key, idx);
      // Only the list kept is remembered by reference. Remembering every list passed in (each
      // create brings a fresh one) left a WeakMap entry per create: V8 marks those ephemerons in
      // its final, blocking pause (54 ms of one pause at 1M znodes under a create load).
      this.byRef.set(acl, { idx, gen: this.gens[idx] });
    }
    this.refs[idx]++;
    return idx;
  }

  get(idx: number): ACL[] {
    return this.lists[idx]!;
  }

  release(idx: number): void {
    if (--this.refs[idx] > 0) return;
    this.byKey.delete(aclKey(this.lists[idx]!));
    this.lists[idx] = undefined;
    this.gens[idx]++;
    this.free.push(idx);
  }
}

export function aclKey(acl: readonly ACL[]): string {
  return acl.map((a) => `${a.perms}/${a.id.scheme}/${a.id.id}`).join(';');
}

/** Offsets of each 64-bit field's low word in NodeRow.raw (its high word follows). */
export const RAW_CZXID = 0;
export const RAW_MZXID = 2;
export const RAW_PZXID = 4;
export const RAW_CTIME = 6;
export const RAW_MTIME = 8;
export const RAW_OWNER = 10;

/** Copy-on-write state of a snapshot scan (see beginScan). */
interface Scan {
  zxid: bigint;
  /** zxid as a signed high word and an unsigned low word, for comparing raw czxids. */
  zxidHi: number;
  zxidLo: number;
  cursor: number;
  end: number;
  preimages: Map<number, NodeRow>;
}

/**
 * A Stat per slot as columns (DataTree.statInto): `words` are the 64-bit fields in STAT_BIG_FIELDS
 * order, each an Int32Array view of a BigInt64Array (two words per slot); `ints` the 32-bit ones in
 * STAT_INT_FIELDS order.
 */
export interface StatColumns {
  readonly words: readonly Int32Array[];
  readonly ints: readonly Int32Array[];
}
export const STAT_BIG_FIELDS = ['czxid', 'mzxid', 'ctime', 'mtime', 'ephemeralOwner', 'pzxid'] as const;
export const STAT_INT_FIELDS = ['version', 'cversion', 'aversion', 'dataLength', 'numChildren'] as const;
/** For each of STAT_BIG_FIELDS, its column in DataTree.words (czxid, mzxid, pzxid, ctime, mtime, owner). */
const STAT_WORD_SOURCES = [0, 1, 3, 4, 5, 2] as const;
const STAT_OWNER_FIELD = 4;

const I32 = Int32Array;
const I64 = BigInt64Array;

/**
 * The in-memory tree plus the secondary indexes ZooKeeper keeps beside it (ephemerals by session,
 * container and TTL sets). Mutated only by `applyTxn` (and snapshot loading); everything else reads.
 *
 * Stored column-wise to be small (issue 12): one slot per znode, its stat fields in typed arrays,
 * its value in a shared slab (arena.ts), its children as an intrusive doubly linked list
 * (firstChild / nextSibling / prevSibling), paths interned once (the index key is the path string
 * kept per slot), ACL lists shared by reference count. About 170 bytes plus the value per znode.
 */
export class DataTree {
  /** path -> slot, paths kept as bytes (pathindex.ts): no JS object per znode. */
  private readonly index = new PathIndex();
  /** 1 for a slot holding a znode. */
  private alive: Uint8Array = new Uint8Array(0);
  /** Slots ever used (the scan and compaction range). */
  private slots = 0;
  private freeSlots: number[] = [];
  private cap = 0;
  private czxid: BigInt64Array = new I64(0);
  private mzxid: BigInt64Array = new I64(0);
  private pzxid: BigInt64Array = new I64(0);
  private ctime: BigInt64Array = new I64(0);
  private mtime: BigInt64Array = new I64(0);
  private owner: BigInt64Array = new I64(0);
  /** The six 64-bit columns above as int32 words, in RAW_* order (views on the same memory). */
  private words: Int32Array[] = [];
  private version: Int32Array = new I32(0);
  private cversion: Int32Array = new I32(0);
  private aversion: Int32Array = new I32(0);
  private nchildren: Int32Array = new I32(0);
  private aclIdx: Int32Array = new I32(0);
  private parent: Int32Array = new I32(0);
  private firstChild: Int32Array = new I32(0);
  private nextSib: Int32Array = new I32(0);
  private prevSib: Int32Array = new I32(0);
  private valSlab: Int32Array = new I32(0);
  private valOff: Int32Array = new I32(0);
  private valLen: Int32Array = new I32(0);
  private kindCode: Uint8Array = new Uint8Array(0);
  private readonly ttlOf = new Map<number, bigint>();
  private readonly values = new ValueArena();
  private readonly acls = new AclTable();
  private readonly ephemeralsBySession = new Map<bigint, Set<string>>();
  private ephemerals = 0;
  readonly containers = new Set<string>();
  readonly ttls = new Set<string>();
  /** Sum of path lengths and data lengths, as ZooKeeper's approximateDataSize. */
  private dataSize = 0;
  private scan: Scan | undefined;
  private readonly scratchRow = emptyRow();
  /** Snapshot loading: slots below this are indexed and linked (or orphans, until their parent comes). */
  private linkedUpTo = 0;
  private orphans: number[] = [];

  // ---------------------------------------------------------------- reads

  get(path: string): ZNode | undefined {
    const s = this.index.get(path);
    return s === undefined ? undefined : this.view(s);
  }

  has(path: string): boolean {
    return this.index.get(path) !== undefined;
  }

  /** Number of znodes including the root. */
  get nodeCount(): number {
    return this.index.size;
  }

  get approximateDataSize(): number {
    return this.dataSize;
  }

  /** Bytes of memory the stored values occupy (slabs), for metrics. */
  get valueBytesHeld(): number {
    return this.values.heldBytes;
  }

  *paths(): IterableIterator<string> {
    for (let s = 0; s < this.slots; s++) if (this.alive[s]) yield this.index.path(s);
  }

  *entries(): IterableIterator<[string, ZNode]> {
    for (let s = 0; s < this.slots; s++) if (this.alive[s]) yield [this.index.path(s), this.view(s)];
  }

  /** Children names sorted (ZooKeeper returns HashSet order; sorted is a valid "no particular order"). */
  getChildren(path: string): string[] | undefined {
    const s = this.index.get(path);
    if (s === undefined) return undefined;
    const out: string[] = [];
    // A child's name follows its parent's path bytes and a '/' (the root's children: just the '/').
    const from = path === '/' ? 1 : this.index.byteLength(s) + 1;
    for (let c = this.firstChild[s]; c !== NONE; c = this.nextSib[c]) out.push(this.index.pathFrom(c, from));
    return out.sort();
  }

  /** A node's value without building the whole view (a view into its slab; undefined: no node). */
  dataOf(path: string): Buffer | null | undefined {
    const s = this.index.get(path);
    return s === undefined ? undefined : this.value(s);
  }

  /**
   * The node's Stat as clients see it (copyStat: container and TTL markers read as 0), without the
   * node view `get` makes (a data view and a node object besides): the write path reads one per txn.
   */
  statOf(path: string): Stat | undefined {
    const s = this.index.get(path);
    if (s === undefined) return undefined;
    const kind = KINDS[this.kindCode[s]];
    return {
      czxid: this.czxid[s], mzxid: this.mzxid[s], ctime: this.ctime[s], mtime: this.mtime[s],
      version: this.version[s], cversion: this.cversion[s], aversion: this.aversion[s],
      ephemeralOwner: kind === 'container' || kind === 'ttl' ? 0n : this.owner[s], dataLength: Math.max(0, this.valLen[s]), numChildren: this.nchildren[s], pzxid: this.pzxid[s],
    };
  }

  /**
   * statOf's fields written into slot `i` of `cols` without making anything (no Stat, no bigints):
   * the watch history records two Stats per create, and as objects they were a tenth of a create's
   * garbage. False when there is no such node.
   */
  statInto(path: string, cols: StatColumns, i: number): boolean {
    const s = this.index.get(path);
    if (s === undefined) return false;
    const kind = KINDS[this.kindCode[s]];
    const hideOwner = kind === 'container' || kind === 'ttl';
    for (let f = 0; f < STAT_WORD_SOURCES.length; f++) {
      const from = this.words[STAT_WORD_SOURCES[f]]!;
      const to = cols.words[f]!;
      const zero = hideOwner && f === STAT_OWNER_FIELD;
      to[2 * i] = zero ? 0 : from[2 * s]!;
      to[2 * i + 1] = zero ? 0 : from[2 * s + 1]!;
    }
    const ints = cols.ints;
    ints[0]![i] = this.version[s]!;
    ints[1]![i] = this.cversion[s]!;
    ints[2]![i] = this.aversion[s]!;
    ints[3]![i] = Math.max(0, this.valLen[s]!);
    ints[4]![i] = this.nchildren[s]!;
    return true;
  }

  /** A node's ACL list without building the whole view (apply and watch filtering use it). */
  aclOf(path: string): ACL[] | undefined {
    const s = this.index.get(path);
    return s === undefined ? undefined : this.acls.get(this.aclIdx[s]);
  }

  cversionOf(path: string): number | undefined {
    const s = this.index.get(path);
    return s === undefined ? undefined : this.cversion[s];
  }

  childCount(path: string): number | undefined {
    const s = this.index.get(path);
    return s === undefined ? undefined : this.nchildren[s];
  }

  /** Ephemeral paths owned by a session (a copy). */
  getEphemerals(sessionId: bigint): string[] {
    return [...(this.ephemeralsBySession.get(sessionId) ?? [])];
  }

  sessionsWithEphemerals(): bigint[] {
    return [...this.ephemeralsBySession.keys()];
  }

  /** Ephemeral znodes in the tree (kept as a count). */
  get ephemeralCount(): number {
    return this.ephemerals;
  }

  /** Count of every descendant of `path` (not the node itself). */
  countDescendants(path: string): number {
    const root = this.index.get(path);
    if (root === undefined) return 0;
    // Iterative: a client can build a tree deep enough to overflow the JS stack.
    let count = 0;
    const stack = [root];
    while (stack.length > 0) {
      const s = stack.pop()!;
      for (let c = this.firstChild[s]; c !== NONE; c = this.nextSib[c]) {
        count++;
        stack.push(c);
      }
    }
    return count;
  }

  private view(s: number): ZNode {
    const kind = KINDS[this.kindCode[s]];
    const stat: Stat = {
      czxid: this.czxid[s], mzxid: this.mzxid[s], ctime: this.ctime[s], mtime: this.mtime[s],
      version: this.version[s], cversion: this.cversion[s], aversion: this.aversion[s],
      ephemeralOwner: this.ownerOf(s, kind), dataLength: Math.max(0, this.valLen[s]), numChildren: this.nchildren[s], pzxid: this.pzxid[s],
    };
    const node: { data: Buffer | null; acl: ACL[]; stat: Stat; kind: NodeKind; ttl?: bigint } = { data: this.value(s), acl: this.acls.get(this.aclIdx[s]), stat, kind };
    if (kind === 'ttl') node.ttl = this.ttlOf.get(s);
    return node;
  }

  /**
   * Owners are stored as signed 64-bit: session ids are signed (as Java longs), while the container
   * and TTL markers are written unsigned (0x8000… / 0xff…), so those kinds read back unsigned.
   */
  private ownerOf(s: number, kind: NodeKind): bigint {
    const v = this.owner[s];
    return kind === 'container' || kind === 'ttl' ? BigInt.asUintN(64, v) : v;
  }

  private value(s: number): Buffer | null {
    return this.values.view(this.valSlab[s], this.valOff[s], this.valLen[s]);
  }

  // ---------------------------------------------------------------- writes (applyTxn only)

  /** Adds a node (its parent must exist, except for the root) with ZooKeeper's createStat. */
  create(path: string, init: NodeInit): void {
    if (this.has(path)) throw new Error(`create: ${path} already exists`);
    const parentPath = parentOf(path);
    const p = parentPath === undefined ? NONE : this.index.get(parentPath);
    if (p === undefined) throw new Error(`create: parent of ${path} missing`);
    const s = this.allocate();
    this.index.add(s, path);
    this.czxid[s] = init.zxid;
    this.mzxid[s] = init.zxid;
    this.pzxid[s] = init.zxid;
    this.ctime[s] = init.time;
    this.mtime[s] = init.time;
    this.owner[s] = init.ephemeralOwner;
    this.version[s] = 0;
    this.cversion[s] = 0;
    this.aversion[s] = 0;
    this.setFields(s, path, init.data, init.acl, init.kind, init.ttl);
    if (p !== NONE) this.link(s, p);
  }

  /** Removes a leaf node and its index entries; the caller updates the parent's stat. */
  remove(path: string): void {
    const s = this.index.get(path);
    if (s === undefined) throw new Error(`remove: ${path} missing`);
    if (this.nchildren[s] > 0) throw new Error(`remove: ${path} has children`);
    this.preserve(s);
    if (this.parent[s] !== NONE) this.unlink(s);
    const kind = KINDS[this.kindCode[s]];
    this.unindex(path, s, kind);
    this.dataSize -= path.length + Math.max(0, this.valLen[s]);
    this.values.release(this.valSlab[s], this.valLen[s]);
    this.acls.release(this.aclIdx[s]);
    this.ttlOf.delete(s);
    this.index.remove(s);
    this.alive[s] = 0;
    this.freeSlots.push(s);
  }

  /** setData: the value, its version and the modification zxid and time. */
  setData(path: string, data: Buffer | null, version: number, mzxid: bigint, mtime: bigint): void {
    const s = this.slotOf(path);
    this.preserve(s);
    this.storeValue(s, data);
    this.version[s] = version;
    this.mzxid[s] = mzxid;
    this.mtime[s] = mtime;
  }

  /** Replaces a value without touching its stat (local, non-replicated config such as /zookeeper/config). */
  replaceValue(path: string, data: Buffer | null): void {
    const s = this.slotOf(path);
    this.preserve(s);
    this.storeValue(s, data);
  }

  setAcl(path: string, acl: ACL[], aversion: number): void {
    const s = this.slotOf(path);
    this.preserve(s);
    const old = this.aclIdx[s];
    this.aclIdx[s] = this.acls.intern(acl);
    this.acls.release(old);
    this.aversion[s] = aversion;
  }

  /** A child was created or deleted: the parent's client-visible cversion and its pzxid. */
  childChanged(path: string, cversion: number, pzxid: bigint): void {
    const s = this.slotOf(path);
    this.preserve(s);
    this.cversion[s] = cversion;
    this.pzxid[s] = pzxid;
  }

  private slotOf(path: string): number {
    const s = this.index.get(path);
    if (s === undefined) throw new Error(`${path} does not exist`);
    return s;
  }

  private storeValue(s: number, data: Buffer | null): void {
    const old = Math.max(0, this.valLen[s]);
    this.values.release(this.valSlab[s], old);
    const [slab, off] = this.values.put(data);
    this.valSlab[s] = slab;
    this.valOff[s] = off;
    this.valLen[s] = data === null ? NONE : data.length;
    this.dataSize += (data?.length ?? 0) - old;
  }

  /** `path` may be undefined when only its bytes were indexed (snapshot loading). */
  private setFields(s: number, path: string | undefined, data: Buffer | null, acl: ACL[], kind: NodeKind, ttl: bigint | undefined): void {
    this.kindCode[s] = KIND_CODE[kind];
    this.aclIdx[s] = this.acls.intern(acl);
    this.valSlab[s] = NULL_VALUE;
    this.valLen[s] = NONE;
    this.storeValue(s, data);
    // ZooKeeper counts the path's UTF-16 length; byte length only differs for non-ASCII paths.
    this.dataSize += path?.length ?? this.index.byteLength(s);
    if (kind === 'ttl' && ttl !== undefined) this.ttlOf.set(s, ttl);
    this.alive[s] = 1;
    // Only ephemerals, containers and TTL nodes keep their path as a string (their indexes).
    if (kind !== 'persistent') this.indexKind(path ?? this.index.path(s), s, kind);
  }

  private allocate(): number {
    let s = this.freeSlots.pop();
    if (s === undefined) {
      s = this.slots++;
      if (s >= this.cap) this.grow();
    }
    this.parent[s] = NONE;
    this.firstChild[s] = NONE;
    this.nextSib[s] = NONE;
    this.prevSib[s] = NONE;
    this.nchildren[s] = 0;
    return s;
  }

  /**
   * Doubles the slot columns in place (columns.ts: no copy of a million slots on the event loop),
   * at least to `min` slots (snapshot loading sizes them once).
   */
  private grow(min = this.cap + 1): void {
    let cap = Math.max(1024, this.cap * 2);
    while (cap < min) cap *= 2;
    const i32 = (a: Int32Array): Int32Array => grownColumn(I32, a, cap);
    const i64 = (a: BigInt64Array): BigInt64Array => grownColumn(I64, a, cap);
    this.czxid = i64(this.czxid);
    this.mzxid = i64(this.mzxid);
    this.pzxid = i64(this.pzxid);
    this.ctime = i64(this.ctime);
    this.mtime = i64(this.mtime);
    this.owner = i64(this.owner);
    this.words = [this.czxid, this.mzxid, this.pzxid, this.ctime, this.mtime, this.owner].map((c) => new Int32Array(c.buffer, c.byteOffset, c.length * 2));
    this.version = i32(this.version);
    this.cversion = i32(this.cversion);
    this.aversion = i32(this.aversion);
    this.nchildren = i32(this.nchildren);
    this.aclIdx = i32(this.aclIdx);
    this.parent = i32(this.parent);
    this.firstChild = i32(this.firstChild);
    this.nextSib = i32(this.nextSib);
    this.prevSib = i32(this.prevSib);
    this.valSlab = i32(this.valSlab);
    this.valOff = i32(this.valOff);
    this.valLen = i32(this.valLen);
    this.kindCode = grownColumn(Uint8Array, this.kindCode, cap);
    this.alive = grownColumn(Uint8Array, this.alive, cap);
    this.index.grow(cap);
    this.cap = cap;
  }

  private link(s: number, p: number): void {
    this.parent[s] = p;
    const head = this.firstChild[p];
    this.nextSib[s] = head;
    this.prevSib[s] = NONE;
    if (head !== NONE) this.prevSib[head] = s;
    this.firstChild[p] = s;
    this.nchildren[p]++;
  }

  private unlink(s: number): void {
    const p = this.parent[s];
    const prev = this.prevSib[s];
    const next = this.nextSib[s];
    if (prev !== NONE) this.nextSib[prev] = next;
    else this.firstChild[p] = next;
    if (next !== NONE) this.prevSib[next] = prev;
    this.nchildren[p]--;
    this.parent[s] = NONE;
  }

  private indexKind(path: string, s: number, kind: NodeKind): void {
    if (kind === 'ephemeral') {
      const o = this.owner[s];
      let set = this.ephemeralsBySession.get(o);
      if (!set) this.ephemeralsBySession.set(o, (set = new Set()));
      set.add(path);
      this.ephemerals++;
    } else if (kind === 'container') this.containers.add(path);
    else if (kind === 'ttl') this.ttls.add(path);
  }

  private unindex(path: string, s: number, kind: NodeKind): void {
    if (kind === 'ephemeral') {
      const o = this.owner[s];
      const set = this.ephemeralsBySession.get(o);
      if (set?.delete(path)) this.ephemerals--;
      if (set && set.size === 0) this.ephemeralsBySession.delete(o);
    } else if (kind === 'container') this.containers.delete(path);
    else if (kind === 'ttl') this.ttls.delete(path);
  }

  // ---------------------------------------------------------------- snapshots

  /**
   * Starts a consistent scan of the tree as of `zxid` (its applied state now) that runs while
   * txns keep being applied: rows are produced in slot order, and a node about to change before
   * the scan reached it first leaves a copy of itself (its pre-image), which the scan emits in its
   * place. Nodes created after `zxid` are skipped. Costs one row per node changed during the scan.
   */
  beginScan(zxid: bigint): void {
    if (this.scan) throw new Error('a snapshot scan is already running');
    this.scan = { zxid, zxidHi: Number(BigInt.asIntN(32, zxid >> 32n)), zxidLo: Number(BigInt.asUintN(32, zxid)), cursor: 0, end: this.slots, preimages: new Map() };
  }

  /**
   * Calls `fn` with up to `max` rows of the running scan; true when the scan is complete. A row is
   * only valid during its call (live rows reuse one object).
   */
  scanEach(max: number, fn: (row: NodeRow) => void): boolean {
    const sc = this.scan;
    if (!sc) throw new Error('no snapshot scan is running');
    const stop = Math.min(sc.end, sc.cursor + max);
    const live = this.scratchRow;
    for (let s = sc.cursor; s < stop; s++) {
      const pre = sc.preimages.get(s);
      if (pre) {
        sc.preimages.delete(s);
        fn(pre);
      } else if (this.alive[s] && this.createdBy(s, sc)) {
        this.fillRawRow(s, live);
        fn(live);
      }
    }
    sc.cursor = stop;
    return stop >= sc.end;
  }

  endScan(): void {
    this.scan = undefined;
  }

  /** czxid[s] <= sc.zxid, compared by words (no bigint made). */
  private createdBy(s: number, sc: Scan): boolean {
    const w = this.words[0]!;
    const hi = w[2 * s + 1]!;
    return hi < sc.zxidHi || (hi === sc.zxidHi && w[2 * s]! >>> 0 <= sc.zxidLo);
  }

  /** A live scan row: as fillRow, with the 64-bit fields as words in `raw`. */
  private fillRawRow(s: number, r: NodeRow): void {
    this.fillCommon(s, r);
    const raw = (r.raw ??= new Int32Array(12));
    const words = this.words;
    for (let f = 0; f < 6; f++) {
      const w = words[f]!;
      raw[2 * f] = w[2 * s]!;
      raw[2 * f + 1] = w[2 * s + 1]!;
    }
  }

  /** Keeps the scan consistent: call before changing any stored field of slot `s`. */
  private preserve(s: number): void {
    const sc = this.scan;
    if (sc && s >= sc.cursor && s < sc.end && this.czxid[s] <= sc.zxid && !sc.preimages.has(s)) {
      sc.preimages.set(s, this.row(s));
    }
  }

  /** A pre-image: its own row, path as a string (the slot's bytes may go meanwhile). */
  private row(s: number): NodeRow {
    const r = this.fillRow(s, emptyRow());
    r.path = this.index.path(s);
    r.pathRef = undefined;
    r.data = this.value(s);
    r.dataRef = undefined;
    return r;
  }

  private fillRow(s: number, r: NodeRow): NodeRow {
    const kind = this.fillCommon(s, r);
    r.raw = undefined;
    r.czxid = this.czxid[s];
    r.mzxid = this.mzxid[s];
    r.pzxid = this.pzxid[s];
    r.ctime = this.ctime[s];
    r.mtime = this.mtime[s];
    r.ephemeralOwner = this.ownerOf(s, kind);
    return r;
  }

  /** The fields every row gets the same way (path and value by reference, 32-bit fields). */
  private fillCommon(s: number, r: NodeRow): NodeKind {
    const kind = KINDS[this.kindCode[s]];
    r.path = '';
    this.index.pathRef(s, (r.pathRef ??= { buf: EMPTY_BUF, start: 0, len: 0 }));
    const ref = (r.dataRef ??= { buf: EMPTY_BUF, start: 0, len: 0 });
    r.data = this.values.ref(this.valSlab[s], this.valOff[s], this.valLen[s], ref) ? EMPTY_BUF : null;
    r.acl = this.acls.get(this.aclIdx[s]);
    r.kind = kind;
    r.ttl = kind === 'ttl' ? this.ttlOf.get(s) : undefined;
    r.version = this.version[s];
    r.cversion = this.cversion[s];
    r.aversion = this.aversion[s];
    return kind;
  }

  /**
   * Snapshot loading into a fresh tree: adds a node with all its stored fields. Rows may come in
   * any order (a child's slot can precede its parent's); the paths are indexed and the nodes linked
   * by indexLoadedRows() and finishLoad(), which must follow the last row before the tree is used. The decoder
   * passes the path as bytes and the value as a range of its chunk, so a persistent node costs no
   * JS allocation at all (only ephemeral, container and TTL paths become strings, for their indexes).
   */
  loadRow(r: NodeRow, value?: { src: Buffer; view?: DataView; start: number; len: number }, path?: { buf: Buffer; len: number }): void {
    const bytes = path ?? this.encodePath(r.path);
    const s = this.allocate();
    this.index.addLoaded(s, bytes.buf, bytes.len);
    this.czxid[s] = r.czxid;
    this.mzxid[s] = r.mzxid;
    this.pzxid[s] = r.pzxid;
    this.ctime[s] = r.ctime;
    this.mtime[s] = r.mtime;
    this.owner[s] = r.ephemeralOwner;
    this.version[s] = r.version;
    this.cversion[s] = r.cversion;
    this.aversion[s] = r.aversion;
    this.setFields(s, path ? undefined : r.path, value ? null : r.data, r.acl, r.kind, r.ttl);
    if (value) {
      const [slab, off] = this.values.putRange(value.src, value.start, value.len, value.view);
      this.valSlab[s] = slab;
      this.valOff[s] = off;
      this.valLen[s] = value.len;
      this.dataSize += value.len;
    }
  }

  /**
   * Snapshot loading: room for `n` znodes now, so the columns are sized once (to what growing to n
   * would have made); the path table is sized when the paths are indexed (PathIndex.indexLoaded).
   */
  reserve(n: number): void {
    if (n > this.cap) this.grow(n);
  }

  private encodePath(path: string): { buf: Buffer; len: number } {
    const buf = Buffer.from(path, 'utf8');
    return { buf, len: buf.length };
  }

  /**
   * Indexes the paths of the rows loaded since the last call (see PathIndex.indexLoaded) and links
   * those whose parent is indexed; throws for a path loaded twice. A SNAP decoded as it streams
   * calls this per chunk, so each turn stays bounded; a load from disk only once, through
   * finishLoad, where indexing a million paths together costs half as much as one by one.
   */
  indexLoadedRows(): void {
    const dup = this.index.indexLoaded();
    if (dup !== undefined) throw new Error(`snapshot holds ${this.index.path(dup)} twice`);
    // Loading fills a fresh tree, whose slots are handed out in order.
    for (let s = this.linkedUpTo; s < this.slots; s++) {
      if (this.index.byteLength(s) === 1) continue; // the root
      const p = this.index.parentSlotOf(s);
      if (p === undefined) this.orphans.push(s);
      else this.link(s, p);
    }
    this.linkedUpTo = this.slots;
  }

  /** Ends a load: indexes what is left and links the nodes loaded before their parents; throws when a parent never came. */
  finishLoad(): void {
    this.indexLoadedRows();
    for (const s of this.orphans) {
      const p = this.index.parentSlotOf(s);
      if (p === undefined) throw new Error(`snapshot holds ${this.index.path(s)} but not its parent`);
      this.link(s, p);
    }
    this.orphans = [];
  }

  /**
   * Moves up to `maxSlots` slots' values and path bytes out of sparse slabs (deletes and
   * overwrites leave holes) into the current ones, so freed memory is returned; `from` is where the
   * last call stopped. Returns where to continue (0 after a full pass).
   */
  compactValues(from: number, maxSlots: number, sparse = this.sparseSlabs()): number {
    if (sparse.values.size === 0 && sparse.paths.size === 0) return 0;
    const stop = Math.min(this.slots, from + maxSlots);
    for (let s = from; s < stop; s++) {
      if (!this.alive[s] || !sparse.values.has(this.valSlab[s])) continue;
      const data = this.value(s);
      const [slab, off] = this.values.put(data);
      this.values.release(this.valSlab[s], this.valLen[s]);
      this.valSlab[s] = slab;
      this.valOff[s] = off;
    }
    if (sparse.paths.size > 0) this.index.compact(from, maxSlots, this.slots, (x) => this.alive[x] === 1, sparse.paths);
    return stop >= this.slots ? 0 : stop;
  }

  /** Sparse value and path slabs right now (compaction works on these for one pass). */
  sparseSlabs(): { values: Set<number>; paths: Set<number> } {
    return { values: this.values.sparse(), paths: this.index.sparseSlabs() };
  }
}
