/** How Java prints the values ZooKeeper's four-letter words contain, so our output matches byte for byte. */

/** A double-valued metric: printed "0.0" rather than "0" (by mntr, and by the AdminServer's JSON). */
export class Dbl {
  constructor(readonly v: number) {}
}

/** Long.toHexString: two's complement for negative values, no leading zeros. */
export function javaHex(v: bigint): string {
  return BigInt.asUintN(64, v).toString(16);
}

/** Double.toString: always a fractional part ("0.0", "12.0"), scientific form outside [1e-3, 1e7). */
export function javaDouble(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(x);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mantissa, exp] = x.toExponential().split('e') as [string, string];
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${exp.startsWith('+') ? exp.slice(1) : exp}`;
}

/** AvgMinMaxCounter.getAvg: rounded HALF_UP to 4 decimal places. */
export function round4(x: number): number {
  if (!Number.isFinite(x)) return 0;
  return Math.sign(x) * Math.round(Math.abs(x) * 1e4 + 1e-9) / 1e4;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => String(n).padStart(2, '0');

/** java.util.Date.toString in UTC: "Mon Nov 23 17:49:16 UTC 2026". */
export function javaDate(ms: number): string {
  const d = new Date(ms);
  return (
    `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad2(d.getUTCDate())} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`
  );
}

/** Inet6Address.getHostAddress: eight groups, no "::" compression, no leading zeros. */
function expandIPv6(ip: string): string {
  const zone = ip.indexOf('%');
  const bare = zone >= 0 ? ip.slice(0, zone) : ip;
  const [head, tail] = bare.includes('::') ? (bare.split('::') as [string, string]) : [bare, undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => parseInt(g, 16).toString(16)).join(':');
}

/**
 * InetSocketAddress.toString of a connected socket: "/127.0.0.1:54321". IPv4-mapped IPv6 addresses
 * print as IPv4 (Java converts them); other IPv6 as "/[0:0:0:0:0:0:0:1]:port" (JDK 14+ form; a guess
 * about which JDK the reference ran on).
 */
export function javaSocketAddress(ip: string, port: number): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return `/${mapped[1]}:${port}`;
  if (ip.includes(':')) return `/[${expandIPv6(ip)}]:${port}`;
  return `/${ip}:${port}`;
}
