/**
 * ZooKeeper's quota bookkeeping as zkCli 3.8 reads and writes it: limits in
 * /zookeeper/quota<path>/zookeeper_limits and usage in .../zookeeper_stats, both StatsTrack
 * strings. The 3.8 StatsTrack.toString quirk (an extra '=' before the hard limits,
 * `count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1`) is reproduced: the server and other
 * tools parse that very text.
 */
export {
  QUOTA_ROOT, LIMIT_NODE, STAT_NODE, quotaPath, limitPath, statPath, trimQuotaPath, COUNT, BYTES, COUNT_HARD, BYTES_HARD,
  parseStatsTrack, statValue, formatStatsTrack, type StatsTrack,
} from '../tree/quota';
