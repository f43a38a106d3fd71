import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ZkServer } from '../../src/server/zkserver';
import { defaultServerOptions, type ServerOptions } from '../../src/server/options';
import { WireConnection, type WireConnectOptions } from '../../src/client/wire';

/** An in-process zabkeeper on a free loopback port with its data in a fresh temp dir. */
export interface InProcServer {
  server: ZkServer;
  port: number;
  dataDir: string;
  options: ServerOptions;
  connect(o?: Partial<WireConnectOptions>): Promise<WireConnection>;
  /** Stops the server (graceful) and starts a new one on the same data dir and port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startInProc(overrides: Partial<ServerOptions> = {}): Promise<InProcServer> {
  const dataDir = overrides.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'zabkeeper-test-'));
  const logger = pino({ level: process.env.ZABKEEPER_TEST_LOG ?? 'silent' });
  let options = defaultServerOptions({ port: 0, tickTimeMs: 200, fourLetterWhitelist: '*', ...overrides, dataDir });
  let server = await ZkServer.start(options, logger);
  const handle: InProcServer = {
    server,
    port: server.port,
    dataDir,
    options,
    connect: (o = {}) => WireConnection.connect({ host: '127.0.0.1', port: handle.port, sessionTimeoutMs: 4000, ...o }),
    async restart() {
      await server.close();
      options = { ...options, port: handle.port };
      server = await ZkServer.start(options, logger);
      handle.server = server;
    },
    async stop() {
      await server.close();
      if (!overrides.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}
