/**
 * Pure helpers for the Java-style connect string `host:port,host:port/chroot` and for moving paths
 * in and out of the chroot. No I/O, no clocks: the client shell calls these.
 */

export interface HostPort {
  host: string;
  port: number;
}

export interface ParsedConnectString {
  hosts: HostPort[];
  /** '' when there is no chroot; otherwise a normalised absolute path without a trailing '/'. */
  chroot: string;
}

export const DEFAULT_PORT = 2181;

function parseHost(item: string): HostPort {
  // [v6addr]:port, host:port, or a bare host.
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(item);
  if (v6) return { host: v6[1]!, port: v6[2] ? Number(v6[2]) : DEFAULT_PORT };
  const colon = item.lastIndexOf(':');
  if (colon < 0) return { host: item, port: DEFAULT_PORT };
  const port = Number(item.slice(colon + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad port in connect string: ${item}`);
  return { host: item.slice(0, colon), port };
}

/** Splits a connect string. Throws on an empty host list or a malformed chroot. */
export function parseConnectString(s: string): ParsedConnectString {
  const slash = s.indexOf('/');
  const hostPart = slash < 0 ? s : s.slice(0, slash);
  const chrootPart = slash < 0 ? '' : s.slice(slash);
  const hosts = hostPart.split(',').map((h) => h.trim()).filter((h) => h !== '').map(parseHost);
  if (hosts.length === 0) throw new Error(`connect string has no hosts: ${s}`);
  return { hosts, chroot: normaliseChroot(chrootPart) };
}

function normaliseChroot(c: string): string {
  if (c === '' || c === '/') return '';
  if (c.endsWith('/')) throw new Error(`chroot must not end with '/': ${c}`);
  if (c.includes('//')) throw new Error(`chroot has an empty segment: ${c}`);
  return c;
}

/** Client path -> server path. The root of the chroot is the chroot itself. */
export function toServerPath(chroot: string, path: string): string {
  if (chroot === '') return path;
  return path === '/' ? chroot : chroot + path;
}

/**
 * Server path -> client path. A path outside the chroot (which a well-behaved server never sends)
 * is returned unchanged rather than mangled.
 */
export function fromServerPath(chroot: string, path: string): string {
  if (chroot === '') return path;
  if (path === chroot) return '/';
  if (path.startsWith(chroot + '/')) return path.slice(chroot.length);
  return path;
}

/** Fisher-Yates with an injected random source (the shell passes Math.random, tests a seeded one). */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The path itself and every ancestor up to '/', nearest first (for recursive watch matching). */
export function selfAndAncestors(path: string): string[] {
  const out = [path];
  let p = path;
  while (p !== '/' && p !== '') {
    const i = p.lastIndexOf('/');
    p = i <= 0 ? '/' : p.slice(0, i);
    out.push(p);
  }
  return out;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function joinPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}
