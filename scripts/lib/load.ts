import { WireConnection } from '../../src/client/wire';
import { OpCode } from '../../protocol/jute/constants';
import { OPEN_ACL_UNSAFE } from '../../protocol/jute/data';
import { CreateFlags } from '../../protocol/jute/constants';
import {
  readCreateResponse,
  readGetDataResponse,
  readStat,
  writeCreateRequest,
  writeGetDataRequest,
  writeSetDataRequest,
} from '../../protocol/jute/records';

/**
 * A closed-loop pipelined load generator over raw jute: `connections` sockets, each keeping
 * `depth` requests outstanding, for `durationMs`. The same code drives zabkeeper and Apache
 * ZooKeeper so the only variable is the server.
 */
export type Workload = 'setData' | 'getData' | 'createSeq' | 'create';

export interface LoadOptions {
  host: string;
  port: number;
  /** Spread connections over these ports (an ensemble's members); default [port]. */
  ports?: number[];
  connections: number;
  depth: number;
  durationMs: number;
  valueBytes: number;
  workload: Workload;
  /** Prefix under which the workload's nodes live (created if missing). */
  root: string;
  /** Stop after this many requests in all (a fixed amount of work, for per-op costs); default: run for durationMs only. */
  maxOps?: number;
  /** First name of the 'create' workload: it creates `${root}/n${i % 1000}/c${firstCreate + k}`, one new name per request. */
  firstCreate?: number;
}

export interface LoadResult {
  workload: Workload;
  ops: number;
  errors: number;
  seconds: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

export async function prepareRoot(host: string, port: number, root: string, connections: number, valueBytes: number): Promise<void> {
  const c = await WireConnection.connect({ host, port, sessionTimeoutMs: 30_000 });
  try {
    const value = Buffer.alloc(valueBytes, 0x61);
    await create(c, root, null);
    await create(c, `${root}/seq`, null);
    for (let i = 0; i < connections; i++) await create(c, `${root}/n${i}`, value);
  } finally {
    c.close();
  }
}

async function create(c: WireConnection, path: string, data: Buffer | null): Promise<void> {
  const reply = await c.request(OpCode.create, (w) => writeCreateRequest(w, { path, data, acl: OPEN_ACL_UNSAFE, flags: CreateFlags.persistent }), readCreateResponse);
  if (reply.err !== 0 && reply.err !== -110) throw new Error(`create ${path} failed: ${reply.err}`);
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const ports = o.ports ?? [o.port];
  const conns = await Promise.all(Array.from({ length: o.connections }, (_, i) => WireConnection.connect({ host: o.host, port: ports[i % ports.length], sessionTimeoutMs: 30_000 })));
  const value = Buffer.alloc(o.valueBytes, 0x62);
  const latencies: number[] = [];
  let ops = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  const deadline = Date.now() + o.durationMs;
  const maxOps = o.maxOps ?? Infinity;
  let issued = 0;
  let nextCreate = o.firstCreate ?? 0;
  const one = (c: WireConnection, i: number): Promise<{ err: number }> => {
    switch (o.workload) {
      case 'create': {
        const k = nextCreate++;
        return c.request(OpCode.create, (w) => writeCreateRequest(w, { path: `${o.root}/n${k % 1000}/c${k}`, data: value, acl: OPEN_ACL_UNSAFE, flags: CreateFlags.persistent }), readCreateResponse);
      }
      case 'setData':
        return c.request(OpCode.setData, (w) => writeSetDataRequest(w, { path: `${o.root}/n${i}`, data: value, version: -1 }), readStat);
      case 'getData':
        return c.request(OpCode.getData, (w) => writeGetDataRequest(w, { path: `${o.root}/n${i}`, watch: false }), readGetDataResponse);
      case 'createSeq':
        return c.request(OpCode.create, (w) => writeCreateRequest(w, { path: `${o.root}/seq/s-`, data: value, acl: OPEN_ACL_UNSAFE, flags: CreateFlags.persistentSequential }), readCreateResponse);
    }
  };
  const worker = async (c: WireConnection, i: number): Promise<void> => {
    while (Date.now() < deadline && issued < maxOps) {
      issued++;
      const t0 = process.hrtime.bigint();
      const reply = await one(c, i);
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      ops++;
      if (reply.err !== 0) errors++;
    }
  };
  try {
    await Promise.all(conns.flatMap((c, i) => Array.from({ length: o.depth }, () => worker(c, i))));
  } finally {
    for (const c of conns) c.close();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return {
    workload: o.workload,
    ops,
    errors,
    seconds,
    opsPerSec: ops / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    meanMs: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
  };
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
