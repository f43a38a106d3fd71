/**
 * Starts and stops a real ZooKeeper-compatible server process (Apache ZooKeeper 3.8 from Debian, or
 * zabkeeper's CLI) for compatibility tests and fixture capture. Both read the SAME zoo.cfg, which is
 * itself part of what we test: zabkeeper must accept Apache's configuration file unchanged.
 *
 * Imperative shell only (processes, sockets, temp dirs). Imports node builtins only, so it can be
 * compiled into dist/scripts and used without jest.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { freePort, zooCfgText } from '../../src/testing/ports';
import { fourLetter } from '../../src/console/probe';

/**
 * `*-ensemble` targets are 3-server ensembles of real processes (the suites talk to member 1);
 * `apache-ensemble` proves the ensemble-specific expectations on Apache ZooKeeper itself.
 */
export type TargetKind = 'apache' | 'zabkeeper' | 'zabkeeper-ensemble' | 'apache-ensemble';

export interface StartOptions {
  tickTime?: number;
  extraCfg?: Record<string, string>;
  /** Reuse an existing data directory (otherwise a fresh temp dir is made and removed on stop). */
  dataDir?: string;
  /**
   * -D flags as an operator gives them (JAAS file, SASL settings): on Apache's java command line,
   * and to zabkeeper as SERVER_JVMFLAGS, which it reads the way zkServer.sh passes them to Java.
   */
  jvmFlags?: string[];
}

export interface TestServer {
  kind: TargetKind;
  host: '127.0.0.1';
  port: number;
  connectString: string;
  dataDir: string;
  cfgPath: string;
  /** Where the server's stdout/stderr (and Apache's log) go; read it when a test fails. */
  logPath: string;
  /** Graceful stop (SIGTERM), then removes the temp dir unless dataDir was supplied. */
  stop(): Promise<void>;
  /** SIGKILL, keeping the data directory (use restart() afterwards or stop() to clean up). */
  kill9(): Promise<void>;
  /** Stops (if running) and starts again on the same port and data directory. */
  restart(): Promise<void>;
  fourLetter(cmd: string): Promise<string>;
}

const HOST = '127.0.0.1' as const;
const READY_DEADLINE_MS = 30_000;

/**
 * Debian's zookeeper.jar manifest leaves out netty-codec and netty-resolver, which Netty's TLS
 * pipeline needs (NoClassDefFoundError io/netty/handler/codec/ByteToMessageDecoder on the server,
 * io/netty/resolver/AddressResolverGroup in zkCli): put them on the classpath explicitly.
 */
export const NETTY_TLS_JARS = ['/usr/share/java/netty-codec.jar', '/usr/share/java/netty-resolver.jar'];

/**
 * Jars Debian installs; zookeeper.jar's manifest Class-Path pulls in netty, jute, slf4j-api, Jetty,
 * etc. The servlet API (installed with Jetty) is not in that manifest: without it the AdminServer
 * cannot load, so it is added for the suites that compare against Apache's AdminServer.
 */
const APACHE_JARS = ['/usr/share/java/zookeeper.jar', '/usr/share/java/slf4j-simple.jar', '/usr/share/java/servlet-api.jar', ...NETTY_TLS_JARS];

export function apacheClasspath(): string {
  return APACHE_JARS.join(':');
}

/** The repository root: the nearest ancestor with zabkeeper's package.json (works from src and dist). */
export function repoRoot(start: string = __dirname): string {
  let dir = start;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'zabkeeper') return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`zabkeeper repo root not found above ${start}`);
    dir = up;
  }
}

/** The built server CLI; ZABKEEPER_CLI names another build (a campaign's snapshot of dist). */
export function zabkeeperCli(): string {
  return process.env.ZABKEEPER_CLI ?? path.join(repoRoot(), 'dist', 'src', 'cli', 'index.js');
}

export { freePort, zooCfgText };

export function baseCfg(port: number, dataDir: string, tickTime: number): Record<string, string> {
  return {
    tickTime: String(tickTime),
    dataDir,
    clientPort: String(port),
    clientPortAddress: HOST,
    maxClientCnxns: '200',
    '4lw.commands.whitelist': '*',
    'admin.enableServer': 'false',
    minSessionTimeout: String(tickTime * 2),
    maxSessionTimeout: String(tickTime * 20),
  };
}

export { fourLetter };

/** A minimal ConnectRequest (with readOnly byte), framed. */
export function connectRequestFrame(timeoutMs = 10000, lastZxidSeen = 0n, readOnly = true): Buffer {
  const body = Buffer.alloc(4 + 8 + 4 + 8 + 4 + 16 + (readOnly ? 1 : 0));
  let o = 0;
  o = body.writeInt32BE(0, o);
  o = body.writeBigInt64BE(lastZxidSeen, o);
  o = body.writeInt32BE(timeoutMs, o);
  o = body.writeBigInt64BE(0n, o);
  o = body.writeInt32BE(16, o);
  o += 16;
  if (readOnly) body.writeUInt8(0, o);
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/** Opens a session, then closes it (closeSession, xid 1): proves the server serves real clients. */
export function probeSession(port: number, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    let connected = false;
    const sock = net.connect(port, HOST, () => sock.write(connectRequestFrame()));
    const timer = setTimeout(() => finish(new Error('session probe: timeout')), timeoutMs);
    const finish = (err?: Error) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve();
    };
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!connected && buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        connected = true;
        const sessionTimeout = buf.readInt32BE(8);
        if (sessionTimeout <= 0) return finish(new Error('session probe: session refused'));
        const close = Buffer.alloc(12);
        close.writeInt32BE(8, 0);
        close.writeInt32BE(1, 4);
        close.writeInt32BE(-11, 8);
        sock.write(close);
        return finish();
      }
    });
    sock.on('error', (e) => finish(e));
    sock.on('close', () => (connected ? undefined : finish(new Error('session probe: closed early'))));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitReady(port: number, child: ChildProcess, logPath: string): Promise<void> {
  const deadline = Date.now() + READY_DEADLINE_MS;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before ready; log:\n${tail(logPath)}`);
    }
    try {
      last = await fourLetter(port, 'ruok', 1000);
      if (last === 'imok') {
        await probeSession(port);
        return;
      }
    } catch (e) {
      last = String(e);
    }
    await sleep(150);
  }
  throw new Error(`server on ${port} not ready after ${READY_DEADLINE_MS} ms (last: ${last}); log:\n${tail(logPath)}`);
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-40).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Every child we started; killed if the parent process exits without stopping them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.on('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    const killAll = () => {
      for (const c of live) c.kill('SIGKILL');
    };
    process.on('exit', killAll);
    // A signal skips 'exit' handlers; clean up, then die the way the signal would have.
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(sig, () => {
        killAll();
        process.kill(process.pid, sig);
      });
    }
  }
}

function spawnTarget(kind: TargetKind, cfgPath: string, dir: string, logPath: string, jvmFlags: readonly string[] = []): ChildProcess {
  const out = fs.openSync(logPath, 'a');
  const stdio: ['ignore', number, number] = ['ignore', out, out];
  if (kind === 'apache') {
    const args = [
      '-Xmx256m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      `-Dorg.slf4j.simpleLogger.logFile=${path.join(dir, 'apache.log')}`,
      '-Dzookeeper.jmx.log4j.disable=true',
      ...jvmFlags,
      '-cp',
      apacheClasspath(),
      'org.apache.zookeeper.server.ZooKeeperServerMain',
      cfgPath,
    ];
    const child = spawn('java', args, { stdio, cwd: dir });
    fs.closeSync(out);
    return child;
  }
  const cli = zabkeeperCli();
  if (!fs.existsSync(cli)) {
    fs.closeSync(out);
    // Never skip silently: a missing build is a failure of the zabkeeper target.
    throw new Error(`zabkeeper target: ${cli} does not exist (run \`npm run build\` first)`);
  }
  const env = jvmFlags.length > 0 ? { ...process.env, SERVER_JVMFLAGS: jvmFlags.join(' ') } : process.env;
  const child = spawn(process.execPath, [cli, 'server', '--config', cfgPath], { stdio, cwd: dir, env });
  fs.closeSync(out);
  return child;
}

function waitExit(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

export async function startServer(kind: TargetKind, opts: StartOptions = {}): Promise<TestServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `zkcompat-${kind}-`));
  const dataDir = opts.dataDir ?? path.join(dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const cfgPath = path.join(dir, 'zoo.cfg');
  const logPath = path.join(dir, 'server.out');
  fs.writeFileSync(cfgPath, zooCfgText({ ...baseCfg(port, dataDir, opts.tickTime ?? 2000), ...(opts.extraCfg ?? {}) }));

  let child: ChildProcess | undefined;
  const launch = async () => {
    const c = spawnTarget(kind, cfgPath, dir, logPath, opts.jvmFlags);
    track(c);
    child = c;
    try {
      await waitReady(port, c, logPath);
    } catch (e) {
      await waitExit(c, 'SIGKILL', 0);
      throw e;
    }
  };
  const halt = async (signal: NodeJS.Signals) => {
    if (child) await waitExit(child, signal, 10_000);
    child = undefined;
  };
  try {
    await launch();
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    kind,
    host: HOST,
    port,
    connectString: `${HOST}:${port}`,
    dataDir,
    cfgPath,
    logPath,
    stop: async () => {
      await halt('SIGTERM');
      // dir holds cfg, logs and (unless supplied by the caller) the data directory.
      fs.rmSync(dir, { recursive: true, force: true });
    },
    kill9: () => halt('SIGKILL'),
    restart: async () => {
      await halt('SIGTERM');
      await launch();
    },
    fourLetter: (cmd: string) => fourLetter(port, cmd),
  };
}
