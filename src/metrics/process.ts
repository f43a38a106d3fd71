import fs from 'node:fs';

/**
 * open_file_descriptor_count / max_file_descriptor_count, read from /proc as ZooKeeper's
 * UnixOperatingSystemMXBean does. Undefined where /proc is not available (the gauges are then
 * not exported).
 */
export function fileDescriptors(): { open?: number; max?: number } {
  let open: number | undefined;
  let max: number | undefined;
  try {
    open = fs.readdirSync('/proc/self/fd').length;
  } catch {
    open = undefined;
  }
  try {
    const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    max = soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
  } catch {
    max = undefined;
  }
  return { open, max };
}
