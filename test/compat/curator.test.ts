/**
 * Apache Curator 5.4 (Debian) recipes. CuratorSuite.java is compiled once per jest run into a temp
 * dir; one JVM per target runs every scenario (through a recording proxy, so we can also check which
 * opcodes Curator used) and prints JSON lines. CuratorSecure.java is Curator on a secured client
 * port, set up with ZooKeeper's system properties: TLS with a client certificate (the x509 id) and
 * SASL DIGEST-MD5 (the sasl id), against zabkeeper and Apache 3.8 given the same zoo.cfg.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compatTargets, isEnsemble, startServer, TestServer } from '../harness/servers';
import { NETTY_TLS_JARS } from '../../scripts/lib/zk-process';
import { CLIENT_SUBJECT_RFC2253, makePki, type Pki } from '../security/pki';
import { Proxy, splitFrames, startProxy } from '../harness/proxy';
import { freePort } from '../harness/ports';
import { Scenario, scenario } from './pyrun';

const JARS = ['curator-recipes', 'curator-framework', 'curator-client', 'zookeeper', 'slf4j-nop'].map(
  (j) => `/usr/share/java/${j}.jar`,
);

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      err && !stdout ? reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

/** Opcodes in the client→server stream of every proxied connection (first frame = ConnectRequest). */
function clientOpcodes(proxy: Proxy): Set<number> {
  const byConn = new Map<number, Buffer[]>();
  for (const f of proxy.frames) if (f.direction === 'client') byConn.set(f.conn, [...(byConn.get(f.conn) ?? []), f.data]);
  const ops = new Set<number>();
  for (const chunks of byConn.values()) {
    const frames = splitFrames(Buffer.concat(chunks));
    for (const fr of frames.slice(1)) ops.add(fr.readInt32BE(8));
  }
  return ops;
}

let classDir = '';

beforeAll(async () => {
  classDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkcompat-curator-'));
  const sources = ['CuratorSuite.java', 'CuratorSecure.java'].map((f) => path.join(__dirname, 'java', f));
  await run('javac', ['-nowarn', '-d', classDir, '-cp', JARS.join(':'), ...sources], 120_000);
}, 150_000);

afterAll(() => {
  if (classDir) fs.rmSync(classDir, { recursive: true, force: true });
});

describe.each(compatTargets())('Curator against %s', (kind) => {
  let server: TestServer;
  let proxy: Proxy;
  const results = new Map<string, Scenario>();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from Java
  const get = (name: string) => scenario(results, name) as Record<string, any>;

  beforeAll(async () => {
    server = await startServer(kind);
    proxy = await startProxy(server.port);
    const out = await run('java', ['-XX:TieredStopAtLevel=1', '-cp', [classDir, ...JARS].join(':'), 'CuratorSuite', `127.0.0.1:${proxy.port}`], 120_000);
    for (const line of out.split('\n')) {
      if (!line.startsWith('{')) continue;
      const s = JSON.parse(line) as Scenario;
      results.set(s.scenario, s);
    }
  }, 150_000);
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  test('InterProcessMutex: 4 clients x 5 rounds, exclusive and reentrant', () => {
    const r = get('mutex');
    expect(r.errors).toEqual([]);
    expect(r.max_holders).toBe(1);
    expect(r.count).toBe(r.expected);
    expect(r.leftover).toEqual([]);
  });

  test('LeaderLatch: exactly one leader, leadership moves when the leader closes', () => {
    const r = get('leader_latch');
    expect(r.leader_counts).toEqual([1, 1, 1]);
    expect([...r.leaders].sort()).toEqual(['p0', 'p1', 'p2']);
  });

  test('CuratorCache (persistent recursive watch): create/change/delete events', () => {
    const r = get('cache');
    expect(r.events).toEqual([
      'create /cur/cache root',
      'create /cur/cache/a 1',
      'change /cur/cache/a 1->2',
      'create /cur/cache/a/b deep',
      'change /cur/cache/a/b deep->deeper',
      'delete /cur/cache/a/b',
      'delete /cur/cache/a',
    ]);
    expect(r.cached_after).toEqual(['/cur/cache']);
  });

  test('transactionOp: per-op results, failing transaction rolls back, container parents', () => {
    const r = get('transactions');
    expect(r.ok).toEqual([
      { type: 'CREATE', for: '/cur/txroot/tx/a', result: '/cur/txroot/tx/a', version: null, error: 0 },
      { type: 'SET_DATA', for: '/cur/txroot/tx', result: null, version: 1, error: 0 },
      { type: 'CHECK', for: '/cur/txroot/tx', result: null, version: null, error: 0 },
      { type: 'CREATE', for: '/cur/txroot/tx/s-', result: '/cur/txroot/tx/s-0000000001', version: null, error: 0 },
      { type: 'DELETE', for: '/cur/txroot/tx/a', result: null, version: null, error: 0 },
    ]);
    expect(r.failure).toBe('BADVERSION');
    expect(r.never_exists).toBe(false);
    expect(r.data).toBe('u');
    // Container znodes report ephemeralOwner 0 to clients.
    expect(r.container_parent_owner).toBe(0);
  });

  test('Curator used addWatch (106), createContainer (19), multi (14), create2 (15)', () => {
    const ops = clientOpcodes(proxy);
    for (const op of [106, 19, 14, 15]) expect(ops).toContain(op);
  });
});

describe.each(compatTargets().filter((k) => !isEnsemble(k)))('Curator on a secured client port of %s', (kind) => {
  let pki: Pki;
  let dir: string;
  const results: Record<string, Record<string, unknown>> = {};

  /** One CuratorSecure run with these JVM flags; its JSON line. */
  async function curator(flags: string[], target: string, node: string, scheme: string, id: string): Promise<Record<string, unknown>> {
    const cp = [classDir, ...JARS, ...NETTY_TLS_JARS].join(':');
    const out = await run('java', ['-XX:TieredStopAtLevel=1', ...flags, '-cp', cp, 'CuratorSecure', target, node, scheme, id], 120_000);
    const line = out.split('\n').find((l) => l.startsWith('{'));
    if (!line) throw new Error(`CuratorSecure printed no result:\n${out}`);
    return JSON.parse(line) as Record<string, unknown>;
  }

  beforeAll(async () => {
    pki = makePki();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkcompat-curator-secure-'));
    // TLS: only a secure client port (with ssl.clientAuth=need) and the x509 provider.
    const securePort = await freePort();
    const tlsServer = await startServer(kind, {
      extraCfg: {
        secureClientPort: String(securePort),
        secureClientPortAddress: '127.0.0.1',
        serverCnxnFactory: 'org.apache.zookeeper.server.NettyServerCnxnFactory',
        'ssl.keyStore.location': pki.server.pem,
        'ssl.keyStore.type': 'PEM',
        'ssl.trustStore.location': pki.ca,
        'ssl.trustStore.type': 'PEM',
        'ssl.clientAuth': 'need',
        'authProvider.x509': 'org.apache.zookeeper.server.auth.X509AuthenticationProvider',
      },
    });
    try {
      results.tls = await curator(
        [
          '-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty',
          '-Dzookeeper.client.secure=true',
          `-Dzookeeper.ssl.keyStore.location=${pki.client.pem}`,
          '-Dzookeeper.ssl.keyStore.type=PEM',
          `-Dzookeeper.ssl.trustStore.location=${pki.ca}`,
          '-Dzookeeper.ssl.trustStore.type=PEM',
        ],
        `127.0.0.1:${securePort}`,
        '/curator-x509',
        'x509',
        CLIENT_SUBJECT_RFC2253,
      );
    } finally {
      await tlsServer.stop();
    }
    // SASL DIGEST-MD5: the server's JAAS Server section, Curator's JAAS Client section.
    const serverJaas = path.join(dir, 'server.conf');
    fs.writeFileSync(serverJaas, 'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_bob="bobsecret";\n};\n');
    const clientJaas = path.join(dir, 'client.conf');
    fs.writeFileSync(clientJaas, 'Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  username="bob"\n  password="bobsecret";\n};\n');
    const saslServer = await startServer(kind, {
      extraCfg: { 'authProvider.1': 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider', 'enforce.auth.enabled': 'true', 'enforce.auth.schemes': 'sasl' },
      jvmFlags: [`-Djava.security.auth.login.config=${serverJaas}`],
    });
    try {
      results.sasl = await curator([`-Djava.security.auth.login.config=${clientJaas}`], saslServer.connectString, '/curator-sasl', 'sasl', 'bob');
    } finally {
      await saslServer.stop();
    }
  }, 240_000);
  afterAll(() => {
    pki?.remove();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('TLS with a client certificate (ssl.clientAuth=need): the x509 id, an ACL naming it, a mutex', () => {
    expect(results.tls).toEqual({
      scenario: 'secure',
      ids: ['ip:127.0.0.1', `x509:${CLIENT_SUBJECT_RFC2253}`],
      data: 'curator',
      acl: [`x509:${CLIENT_SUBJECT_RFC2253}:31`],
      mutex: true,
      lock_children: [],
    });
  });

  test('SASL DIGEST-MD5 under enforce.auth.schemes=sasl: the sasl id, an ACL naming it, a mutex', () => {
    expect(results.sasl).toEqual({ scenario: 'secure', ids: ['ip:127.0.0.1', 'sasl:bob'], data: 'curator', acl: ['sasl:bob:31'], mutex: true, lock_children: [] });
  });
});
