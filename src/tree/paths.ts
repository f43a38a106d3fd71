/**
 * ZooKeeper path rules (PathUtils.validatePath) and parent/child helpers. Pure string functions.
 */

/** Code points ZooKeeper refuses anywhere in a path (besides NUL). */
function isForbiddenChar(c: number): boolean {
  return (
    (c > 0x0000 && c <= 0x001f) ||
    (c >= 0x007f && c <= 0x009f) ||
    (c >= 0xd800 && c <= 0xf8ff) ||
    (c >= 0xfff0 && c <= 0xffff)
  );
}

/**
 * Returns undefined when `path` is a valid ZooKeeper path, else the reason. For sequential creates
 * ZooKeeper validates `path + "1"` (the suffix is not known yet), which is why `/a/` is a legal
 * sequential prefix.
 */
export function validatePath(path: string | null | undefined, sequential = false): string | undefined {
  if (path === null || path === undefined) return 'path is null';
  const p = sequential ? path + '1' : path;
  if (p.length === 0) return 'path length must be > 0';
  if (p[0] !== '/') return 'path must start with / character';
  if (p.length === 1) return undefined;
  if (p[p.length - 1] === '/') return 'path must not end with / character';
  for (let i = 1; i < p.length; i++) {
    const c = p.charCodeAt(i);
    const prev = p[i - 1];
    const segmentEnds = i + 1 === p.length || p[i + 1] === '/';
    if (c === 0) return `null character not allowed @${i}`;
    if (p[i] === '/' && prev === '/') return `empty node name specified @${i}`;
    if (p[i] === '.' && prev === '.' && p[i - 2] === '/' && segmentEnds) return `relative paths not allowed @${i}`;
    if (p[i] === '.' && prev === '/' && segmentEnds) return `relative paths not allowed @${i}`;
    if (isForbiddenChar(c)) return `invalid character @${i}`;
  }
  return undefined;
}

/** Parent of an absolute path; the root's children have parent '/'. Undefined for '/' and for strings without '/'. */
export function parentOf(path: string): string | undefined {
  const slash = path.lastIndexOf('/');
  if (slash < 0 || path === '/') return undefined;
  return slash === 0 ? '/' : path.substring(0, slash);
}

/** Last segment of a path ('' for '/'). */
export function basename(path: string): string {
  return path.substring(path.lastIndexOf('/') + 1);
}

/** Joins a parent path and a child name. */
export function childPath(parent: string, name: string): string {
  return parent === '/' ? '/' + name : parent + '/' + name;
}

/** The nodes ZooKeeper creates itself and refuses to delete. */
export const SPECIAL_PATHS: ReadonlySet<string> = new Set(['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']);

/** ZooKeeper's `%010d` sequential suffix. */
export function sequenceSuffix(n: number): string {
  return n < 0 ? '-' + String(-n).padStart(9, '0') : String(n).padStart(10, '0');
}
