/** Helpers for the operations tests: HTTP GET, a Prometheus text parser and JSON shapes. */
import http from 'node:http';

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  raw: Buffer;
}

export function httpGet(host: string, port: number, path: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: raw.toString('utf8'), raw });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET http://${host}:${port}${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

export interface Exposition {
  types: Map<string, string>;
  samples: { name: string; labels: Record<string, string>; value: number }[];
  /** The sample with exactly these labels (none by default), undefined when absent. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

/** Prometheus text format 0.0.4 (as much of it as our and ZooKeeper's exporters write). */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Exposition['samples'] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) {
      types.set(t[1]!, t[2]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  const same = (a: Record<string, string>, b: Record<string, string>) => Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);
  return { types, samples, value: (name, labels = {}) => samples.find((s) => s.name === name && same(s.labels, labels))?.value };
}

/**
 * The structure of a JSON value without its data: objects keep their keys (maps keyed by session
 * id, path, time or server id collapse to one `<key>` entry, since those keys differ between
 * servers), arrays keep the shape of their first element.
 */
export function jsonShape(v: unknown): unknown {
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? ['<empty>'] : [jsonShape(v[0])];
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    const dynamic = entries.length > 0 && entries.every(([k]) => /^(\/|\d|0x)/.test(k));
    // A map's values all have one shape; an empty list (a drained expiry bucket) says nothing about it.
    const sample = entries.find(([, x]) => !Array.isArray(x) || x.length > 0) ?? entries[0]!;
    if (dynamic) return { '<key>': jsonShape(sample[1]) };
    return Object.fromEntries(entries.map(([k, x]) => [k, jsonShape(x)]).sort(([a], [b]) => (String(a) < String(b) ? -1 : 1)));
  }
  return typeof v;
}
