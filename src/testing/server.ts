/**
 * An embeddable, real zabkeeper for users' tests: one in-process standalone server on a free
 * loopback port.
 *
 *   const server = await startTestServer();                      // SQLite in a fresh temp dir
 *   const server = await startTestServer({ storage: 'memory' });  // no SQLite, no fsync, no files
 *   const zk = await createClient(server.connectString);
 *   ...
 *   await zk.close(); await server.stop();
 *
 * With `storage: 'memory'` nothing loads better-sqlite3, so it runs where the native module is not
 * installed; restart() keeps the in-memory "disk", so sessions and data survive it as on SQLite.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ZkServer } from '../server/zkserver';
import { defaultServerOptions, type ServerOptions } from '../server/options';
import { createMemoryStore, newMemoryDisk } from '../storage/memory';
import { expireSessionNow } from './control';

export interface TestServerOptions {
  /** 'sqlite' (default): a real data directory, as in production. 'memory': no SQLite, no files. */
  storage?: 'sqlite' | 'memory';
  /** Base time unit; session timeouts are clamped to [2, 20] ticks. Default 200 ms (fast tests). */
  tickTimeMs?: number;
  /** SQLite only: use this data directory (kept on stop) instead of a fresh temp one. */
  dataDir?: string;
  /** Anything else the server accepts. */
  server?: Partial<ServerOptions>;
}

export interface TestServer {
  host: string;
  port: number;
  /** `127.0.0.1:<port>`; append a chroot if you want one. */
  connectString: string;
  /** The data directory ('' with storage 'memory'). */
  dataDir: string;
  /** Stops the server and the listener (and removes the temp data dir). Idempotent. */
  stop(): Promise<void>;
  /** Stops and starts again on the same port and data (sessions survive, as in ZooKeeper). */
  restart(): Promise<void>;
  /**
   * Expires a session now, as if its timeout had passed: its ephemerals are deleted and its client
   * sees `lost` (then opens a new session). Resolves once the expiry is committed.
   */
  expireSession(sessionId: bigint): Promise<void>;
}

/** The SQLite store needs better-sqlite3; say what to do when it is missing. */
async function startServer(options: ServerOptions, logger: pino.Logger, memory: ReturnType<typeof newMemoryDisk> | undefined): Promise<ZkServer> {
  if (memory) return ZkServer.start(options, logger, { store: createMemoryStore({ disk: memory }) });
  try {
    return await ZkServer.start(options, logger);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && /better-sqlite3/.test(String((err as Error).message))) {
      throw new Error("startTestServer: storage 'sqlite' needs better-sqlite3, which is not installed; use startTestServer({ storage: 'memory' })", { cause: err });
    }
    throw err;
  }
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const memory = opts.storage === 'memory' ? newMemoryDisk() : undefined;
  if (memory && opts.dataDir !== undefined) throw new TypeError("startTestServer: dataDir needs storage 'sqlite'");
  const ownDir = !memory && opts.dataDir === undefined;
  const dataDir = memory ? '' : (opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'zabkeeper-testserver-')));
  const logger = pino({ level: 'silent' });
  let options = defaultServerOptions({
    port: 0,
    tickTimeMs: opts.tickTimeMs ?? 200,
    fourLetterWhitelist: '*',
    maxClientCnxns: 0,
    ...opts.server,
    dataDir,
  });
  let server: ZkServer | undefined;
  try {
    server = await startServer(options, logger, memory);
  } catch (err) {
    if (ownDir) fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const port = server.port;
  options = { ...options, port };
  let stopped: Promise<void> | undefined;
  return {
    host: options.host,
    port,
    connectString: `${options.host}:${port}`,
    dataDir,
    stop() {
      if (!stopped) {
        stopped = (async () => {
          await server?.close();
          server = undefined;
          if (ownDir) fs.rmSync(dataDir, { recursive: true, force: true });
        })();
      }
      return stopped;
    },
    async restart() {
      await server?.close();
      server = await startServer(options, logger, memory);
    },
    async expireSession(sessionId: bigint) {
      if (!server) throw new Error('startTestServer: the server is stopped');
      await expireSessionNow(server, sessionId);
    },
  };
}
