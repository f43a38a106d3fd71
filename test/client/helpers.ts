/**
 * Shared setup for the client tests: one server per target (Apache ZooKeeper 3.8 or zabkeeper,
 * from ZK_COMPAT_TARGETS), unique base paths per test, and small polling helpers that wait on
 * conditions instead of asserting on timing.
 */
import { randomUUID } from 'node:crypto';
import { startServer, type TargetKind, type TestServer } from '../harness/servers';
import { ZkClient, type ClientOptions } from '../../src/client';
import { startTestServer, type TestServer as InProcServer, type TestServerOptions } from '../../src/testing/server';
import { startProxy, type Proxy } from '../harness/proxy';

/** tickTime 500 ms: sessions may be as short as 1 s, so expiry tests stay quick. */
export const TICK_MS = 500;

/**
 * Starts the target. ZK_CLIENT_INPROC=1 runs zabkeeper in-process through startTestServer instead
 * of the built CLI (handy while dist/ is being rebuilt; the default is the real CLI process).
 */
export async function startTarget(kind: TargetKind): Promise<Pick<TestServer, 'port' | 'connectString' | 'stop'>> {
  if (kind === 'zabkeeper' && process.env.ZK_CLIENT_INPROC === '1') {
    const s = await startTestServer({ tickTimeMs: TICK_MS });
    return { port: s.port, connectString: s.connectString, stop: () => s.stop() };
  }
  return startServer(kind, { tickTime: TICK_MS, extraCfg: { extendedTypesEnabled: 'true' } });
}

/** Clients opened by a test file, closed in afterAll even if a test failed midway. */
export class ClientPool {
  private readonly clients = new Set<ZkClient>();

  async open(connectString: string, opts: ClientOptions = {}): Promise<ZkClient> {
    const c = new ZkClient(connectString, { sessionTimeoutMs: 4000, connectTimeoutMs: 20_000, ...opts });
    this.clients.add(c);
    await c.connect();
    return c;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.clients].map((c) => c.close().catch(() => undefined)));
    this.clients.clear();
  }
}

export const uniq = (prefix = 't'): string => `/${prefix}-${randomUUID().slice(0, 8)}`;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until fn() is truthy (or throws after timeoutMs). */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 20_000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await sleep(stepMs);
  }
}

/** Resolves with the first state equal to `want` emitted by the client from now on. */
export function nextState(c: ZkClient, want: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      c.off('state', on);
      reject(new Error(`state ${want} not seen within ${timeoutMs} ms (now ${c.state})`));
    }, timeoutMs);
    const on = (s: string) => {
      if (s !== want) return;
      clearTimeout(t);
      c.off('state', on);
      resolve();
    };
    c.on('state', on);
  });
}

/** Reads up to n items from an async iterator, with a timeout. */
export async function take<T>(it: AsyncIterator<T>, n: number, timeoutMs = 20_000): Promise<T[]> {
  const out: T[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`only ${out.length}/${n} items within ${timeoutMs} ms`);
    let t: NodeJS.Timeout | undefined;
    const r = await Promise.race([it.next(), new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`only ${out.length}/${n} items within ${timeoutMs} ms: ${JSON.stringify(out, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`)), left)))]);
    clearTimeout(t);
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

/**
 * For a describe block: one in-process server, a fresh recording proxy in front of it for each
 * test, a client pool and a direct client; everything stopped afterwards.
 */
export function proxiedServer(opts: TestServerOptions = {}): { server: InProcServer; proxy: Proxy; pool: ClientPool; direct: ZkClient } {
  const ctx = { pool: new ClientPool() } as { server: InProcServer; proxy: Proxy; pool: ClientPool; direct: ZkClient };
  beforeAll(async () => {
    ctx.server = await startTestServer(opts);
    ctx.direct = await ctx.pool.open(ctx.server.connectString);
  });
  beforeEach(async () => {
    ctx.proxy = await startProxy(ctx.server.port);
  });
  afterEach(async () => {
    ctx.proxy.resume();
    await ctx.proxy.close();
  });
  afterAll(async () => {
    await ctx.pool.closeAll();
    await ctx.server?.stop();
  });
  return ctx;
}
