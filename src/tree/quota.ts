import type { DataTree } from './datatree';
import { childPath } from './paths';

/**
 * ZooKeeper's quotas (Quotas.java, StatsTrack.java and the quota parts of DataTree.java): limits in
 * /zookeeper/quota<path>/zookeeper_limits, usage in /zookeeper/quota<path>/zookeeper_stats, both
 * StatsTrack text. The usage counts the znodes of the subtree including its root and the sum of
 * their data lengths. Apply keeps it current on every create, delete and setData, exactly as
 * ZooKeeper's DataTree does, so every member (and every replay) computes the same stats nodes.
 *
 * Which paths have a quota is read from the tree itself (a path P has one iff
 * /zookeeper/quota<P>/zookeeper_limits exists) instead of ZooKeeper's PathTrie index: the same
 * answer, nothing to rebuild after a snapshot load, and free when no quota is set.
 */

export const QUOTA_ROOT = '/zookeeper/quota';
export const LIMIT_NODE = 'zookeeper_limits';
export const STAT_NODE = 'zookeeper_stats';

export const quotaPath = (path: string): string => QUOTA_ROOT + path;
export const limitPath = (path: string): string => `${QUOTA_ROOT}${path}/${LIMIT_NODE}`;
export const statPath = (path: string): string => `${QUOTA_ROOT}${path}/${STAT_NODE}`;
export const trimQuotaPath = (p: string): string => p.slice(QUOTA_ROOT.length);

export type StatsTrack = Map<string, number>;

export const COUNT = 'count';
export const BYTES = 'bytes';
export const COUNT_HARD = 'countHardLimit';
export const BYTES_HARD = 'byteHardLimit';

/**
 * Java's String.split: trailing empty strings are dropped (so "," gives []), but a string with no
 * separator at all comes back whole ("" gives [""]).
 */
export function javaSplit(s: string, sep: string | RegExp): string[] {
  const parts = s.split(sep);
  if (parts.length === 1) return parts;
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** StatsTrack(String): `k=v` pairs separated by ',' or ';'; an empty or unreadable value means -1. */
export function parseStatsTrack(text: string): StatsTrack {
  const stats: StatsTrack = new Map();
  if (text === '') return stats;
  for (const pair of javaSplit(text, /[,;]+/)) {
    const kv = javaSplit(pair, '=');
    const value = kv[1] === undefined || kv[1] === '' ? -1 : Number.parseInt(kv[1], 10);
    stats.set(kv[0]!, Number.isNaN(value) ? -1 : value);
  }
  return stats;
}

export const statValue = (s: StatsTrack, key: string): number => s.get(key) ?? -1;

/**
 * StatsTrack.toString of ZooKeeper 3.8: count and bytes first, then (quirk reproduced, other tools
 * parse this very text) an extra '=' and `;key=value` for every other key, sorted.
 */
export function formatStatsTrack(s: StatsTrack): string {
  const extra = [...s.keys()].filter((k) => k !== COUNT && k !== BYTES).sort();
  let out = `${COUNT}=${statValue(s, COUNT)},${BYTES}=${statValue(s, BYTES)}`;
  if (extra.length > 0) out += '=' + extra.map((k) => `;${k}=${s.get(k)}`).join('');
  return out;
}

/** True when no quota has ever been set: every quota step below is then skipped. */
function noQuotas(tree: DataTree): boolean {
  return (tree.childCount(QUOTA_ROOT) ?? 0) === 0;
}

/**
 * DataTree.getMaxPrefixWithQuota: the deepest path at or above `path` that has a quota (whole
 * components only), never "/" or "/zookeeper". Undefined when none.
 */
export function quotaRootOf(tree: DataTree, path: string): string | undefined {
  if (noQuotas(tree) || path === '/' || path === '/zookeeper' || path.startsWith('/zookeeper/')) return undefined;
  for (let p = path; p.length > 1; p = p.slice(0, p.lastIndexOf('/')) || '/') {
    if (tree.has(limitPath(p))) return p;
  }
  return undefined;
}

const bytesOf = (data: Buffer | null | undefined): number => data?.length ?? 0;

/** DataTree.updateQuotaStat: adds to the stats node of `root` (silently nothing if it is missing, as ZooKeeper logs and goes on). */
function addToStats(tree: DataTree, root: string, countDiff: number, bytesDiff: number): void {
  const data = tree.dataOf(statPath(root));
  if (data === undefined) return;
  const stats = parseStatsTrack(data?.toString('utf8') ?? '');
  stats.set(COUNT, statValue(stats, COUNT) + countDiff);
  stats.set(BYTES, statValue(stats, BYTES) + bytesDiff);
  // Like ZooKeeper's updateQuotaStat: the stats node's data changes, its stat does not.
  tree.replaceValue(statPath(root), Buffer.from(formatStatsTrack(stats), 'utf8'));
}

/** DataTree.getCounts: znodes of the subtree including its root, and the sum of their data lengths. */
export function countSubtree(tree: DataTree, root: string): { count: number; bytes: number } {
  let count = 0;
  let bytes = 0;
  const stack = [root];
  while (stack.length > 0) {
    const p = stack.pop()!;
    const data = tree.dataOf(p);
    if (data === undefined) continue;
    count++;
    bytes += bytesOf(data);
    for (const name of tree.getChildren(p) ?? []) stack.push(childPath(p, name));
  }
  return { count, bytes };
}

/** DataTree.updateQuotaForPath: recounts `root` from scratch into its stats node (only count and bytes are written). */
function recount(tree: DataTree, root: string): void {
  if (!tree.has(statPath(root))) return;
  const { count, bytes } = countSubtree(tree, root);
  tree.replaceValue(statPath(root), Buffer.from(formatStatsTrack(new Map([[COUNT, count], [BYTES, bytes]])), 'utf8'));
}

/** After `path` was inserted with `data`: a new stats node is filled in, and the covering quota counts the node. */
export function quotaAfterCreate(tree: DataTree, path: string, data: Buffer | null): void {
  if (noQuotas(tree)) return;
  if (path.startsWith(`${QUOTA_ROOT}/`) && path.endsWith(`/${STAT_NODE}`)) recount(tree, trimQuotaPath(path.slice(0, -STAT_NODE.length - 1)));
  const root = quotaRootOf(tree, path);
  if (root !== undefined) addToStats(tree, root, 1, bytesOf(data));
}

/** After `path` (which held `data`) was removed. */
export function quotaAfterDelete(tree: DataTree, path: string, data: Buffer | null): void {
  const root = quotaRootOf(tree, path);
  if (root !== undefined) addToStats(tree, root, -1, -bytesOf(data));
}

/** After `path`'s data changed from `before` to `after`. */
export function quotaAfterSetData(tree: DataTree, path: string, before: Buffer | null, after: Buffer | null): void {
  const root = quotaRootOf(tree, path);
  if (root !== undefined) addToStats(tree, root, 0, bytesOf(after) - bytesOf(before));
}

/** Every path that has a quota, from the limit nodes under /zookeeper/quota (sorted). */
export function quotaRoots(tree: DataTree): string[] {
  if (noQuotas(tree)) return [];
  const out: string[] = [];
  const stack = [QUOTA_ROOT];
  while (stack.length > 0) {
    const p = stack.pop()!;
    for (const name of tree.getChildren(p) ?? []) {
      if (name === LIMIT_NODE) out.push(trimQuotaPath(p));
      else if (name !== STAT_NODE) stack.push(childPath(p, name));
    }
  }
  return out.sort();
}

/** DataTree.setupQuota (snapshot load): every quota's stats recounted from the tree. */
export function recountAllQuotas(tree: DataTree): void {
  for (const root of quotaRoots(tree)) recount(tree, root);
}

/** What enforcement and the metrics need of one quota: limits (-1 = unset) and current usage. */
export interface QuotaState {
  root: string;
  limits: StatsTrack;
  usage: { count: number; bytes: number };
}

export function quotaState(tree: DataTree, root: string): QuotaState | undefined {
  const limitNode = tree.get(limitPath(root));
  if (!limitNode) return undefined;
  const stats = parseStatsTrack(tree.get(statPath(root))?.data?.toString('utf8') ?? '');
  return {
    root,
    limits: parseStatsTrack(limitNode.data?.toString('utf8') ?? ''),
    usage: { count: statValue(stats, COUNT), bytes: statValue(stats, BYTES) },
  };
}

/** PathUtils.getTopNamespace: the first component of a path ("/a/b" -> "a"). */
export function topNamespace(path: string): string {
  return path.split('/')[1] ?? '';
}

/**
 * ZooKeeperServer.checkQuota for one change of `countDiff` znodes and `bytesDiff` bytes under a
 * quota whose usage is `usage`: the limit that is exceeded, if any. Only hard limits reject; a
 * soft limit that is exceeded is reported with hard=false (ZooKeeper logs it).
 */
export function quotaViolation(
  q: QuotaState,
  usage: { count: number; bytes: number },
  countDiff: number,
  bytesDiff: number,
): { what: 'count' | 'bytes'; hard: boolean; value: number; limit: number } | undefined {
  const checks = [
    { what: 'count' as const, diff: countDiff, current: usage.count, soft: statValue(q.limits, COUNT), hard: statValue(q.limits, COUNT_HARD) },
    { what: 'bytes' as const, diff: bytesDiff, current: usage.bytes, soft: statValue(q.limits, BYTES), hard: statValue(q.limits, BYTES_HARD) },
  ];
  let soft: ReturnType<typeof quotaViolation>;
  for (const c of checks) {
    if (c.diff === 0 || (c.soft < 0 && c.hard < 0)) continue;
    const isHard = c.hard > -1;
    const limit = isHard ? c.hard : c.soft;
    const value = c.current + c.diff;
    if (value <= limit) continue;
    if (isHard) return { what: c.what, hard: true, value, limit };
    soft ??= { what: c.what, hard: false, value, limit };
  }
  return soft;
}
