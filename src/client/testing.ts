/**
 * An embeddable, real zabkeeper for users' tests: one in-process standalone server on a free
 * loopback port with its data in a fresh temp directory, removed on stop().
 *
 *   const zk = await startTestServer();
 *   const client = await createClient(zk.connectString);
 *   ...
 *   await client.close(); await zk.stop();
 *
 * This module is the one place in src/client that imports the server; it is not re-exported from
 * the client index so that using the client never loads server code.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ZkServer } from '../server/zkserver';
import { defaultServerOptions, type ServerOptions } from '../server/options';

export interface TestServerOptions {
  /** Base time unit; session timeouts are clamped to [2, 20] ticks. Default 200 ms (fast tests). */
  tickTimeMs?: number;
  /** Use this data directory (kept on stop) instead of a fresh temp one. */
  dataDir?: string;
  /** Anything else the server accepts. */
  server?: Partial<ServerOptions>;
}

export interface TestServer {
  host: string;
  port: number;
  /** `127.0.0.1:<port>`; append a chroot if you want one. */
  connectString: string;
  dataDir: string;
  /** Stops the server and the listener (and removes the temp data dir). Idempotent. */
  stop(): Promise<void>;
  /** Stops and starts again on the same port and data directory (sessions survive, as in ZooKeeper). */
  restart(): Promise<void>;
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'zabkeeper-testserver-'));
  const logger = pino({ level: 'silent' });
  let options = defaultServerOptions({
    port: 0,
    tickTimeMs: opts.tickTimeMs ?? 200,
    fourLetterWhitelist: '*',
    maxClientCnxns: 0,
    ...opts.server,
    dataDir,
  });
  let server: ZkServer | undefined = await ZkServer.start(options, logger);
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
      server = await ZkServer.start(options, logger);
    },
  };
}
