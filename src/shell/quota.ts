/**
 * ZooKeeper's quota bookkeeping as zkCli 3.8 reads and writes it: limits in
 * /zookeeper/quota<path>/zookeeper_limits and usage in .../zookeeper_stats, both StatsTrack
 * strings. The 3.8 StatsTrack.toString quirk (an extra '=' before the hard limits,
 * `count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1`) is reproduced: the server and other
 * tools parse that very text.
 */
import { javaSplit } from './acl';

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

/** Parses `k=v` pairs separated by ',' or ';' (an empty value means -1). */
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

export function formatStatsTrack(s: StatsTrack): string {
  const extra = [...s.keys()].filter((k) => k !== COUNT && k !== BYTES).sort();
  let out = `${COUNT}=${statValue(s, COUNT)},${BYTES}=${statValue(s, BYTES)}`;
  if (extra.length > 0) out += '=' + extra.map((k) => `;${k}=${s.get(k)}`).join('');
  return out;
}
