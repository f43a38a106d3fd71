/**
 * Apache's own clients over TLS: zkCli.sh (Netty socket, zookeeper.client.secure) with and without
 * a client certificate, and kazoo with use_ssl, against zabkeeper and Apache ZooKeeper 3.8 started
 * from the same zoo.cfg, so every expectation is proven on the real thing; on the secure client
 * port and on the plaintext port with client.portUnification, where plaintext clients still work.
 * Both servers use the Java stores keytool writes (a JKS key store, a PKCS12 trust store); zkCli's
 * -client-configuration file names PKCS12 stores (Java's default and legacy algorithms), and
 * `zabkeeper shell` reads that same file and prints zkCli's transcript. Certificates are made with
 * openssl and the stores with Java 17's keytool in the test.
 */
import { compatTargets, isEnsemble, startServer, type TestServer } from '../harness/servers';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, NETTY_TLS_JARS, zabkeeperCli } from '../../scripts/lib/zk-process';
import { run } from '../shell/helpers';
import { runZkCli, sortWhoAmI, ZKCLI_ENV } from './zkcli';
import { runPython, scenario, type Scenario } from './pyrun';
import { CLIENT_SUBJECT_RFC2253, makePki, type Pki } from '../security/pki';
import { javaKeyStore, javaTrustStore, STORE_PASSWORD } from '../security/keytool';

const TARGETS = compatTargets().filter((k) => !isEnsemble(k));

/** zkCli.sh's TLS flags (ZooKeeper's documented client settings), PEM stores. */
function zkCliTls(pki: Pki, withCert: boolean): string {
  const flags = [
    // Debian's zkCli.sh classpath lacks Netty's codec and resolver jars (see NETTY_TLS_JARS).
    `${ZKCLI_ENV.CLIENT_JVMFLAGS}:${NETTY_TLS_JARS.join(':')}`,
    '-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty',
    '-Dzookeeper.client.secure=true',
    `-Dzookeeper.ssl.trustStore.location=${pki.ca}`,
    '-Dzookeeper.ssl.trustStore.type=PEM',
  ];
  if (withCert) flags.push(`-Dzookeeper.ssl.keyStore.location=${pki.client.pem}`, '-Dzookeeper.ssl.keyStore.type=PEM');
  return flags.join(' ');
}

/** A ZKClientConfig file for zkCli's -client-configuration (and our shell's): TLS with a client certificate in keytool's PKCS12 stores. */
async function clientConfiguration(pki: Pki): Promise<string> {
  const [keyStore, trustStore] = await Promise.all([javaKeyStore(pki, pki.client, 'client', 'p12'), javaTrustStore(pki, 'client', 'legacyP12')]);
  const file = path.join(pki.dir, 'zkcli-client.properties');
  fs.writeFileSync(file, [
    'zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty',
    'zookeeper.client.secure=true',
    `zookeeper.ssl.keyStore.location=${keyStore}`,
    `zookeeper.ssl.keyStore.password=${STORE_PASSWORD}`,
    `zookeeper.ssl.trustStore.location=${trustStore}`,
    `zookeeper.ssl.trustStore.password=${STORE_PASSWORD}`,
  ].join('\n') + '\n');
  return file;
}

/** zkCli lines that matter (logging and banners dropped). */
function transcript(raw: string): string[] {
  return raw
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '' && !/^(Connecting to|Welcome to ZooKeeper|JLine support|WATCHER::|WatchedEvent|SLF4J|log4j)/.test(l));
}

describe.each(TARGETS)('TLS clients against %s', (kind) => {
  let pki: Pki;
  let server: TestServer;
  let securePort: number;
  let outputs: Record<string, string[]> = {};
  let kazoo: Map<string, Scenario>;
  let kazooUnified: Map<string, Scenario>;

  beforeAll(async () => {
    pki = makePki();
    const [keyStore, trustStore] = await Promise.all([javaKeyStore(pki, pki.server, 'server', 'jks'), javaTrustStore(pki, 'server', 'p12')]);
    const config = await clientConfiguration(pki);
    securePort = await freePort();
    server = await startServer(kind, {
      extraCfg: {
        secureClientPort: String(securePort),
        secureClientPortAddress: '127.0.0.1',
        serverCnxnFactory: 'org.apache.zookeeper.server.NettyServerCnxnFactory',
        'ssl.keyStore.location': keyStore,
        'ssl.keyStore.password': STORE_PASSWORD,
        'ssl.trustStore.location': trustStore,
        'ssl.trustStore.password': STORE_PASSWORD,
        'ssl.clientAuth': 'want',
        'authProvider.x509': 'org.apache.zookeeper.server.auth.X509AuthenticationProvider',
        'client.portUnification': 'true',
      },
    });
    const target = `127.0.0.1:${securePort}`;
    const unified = `127.0.0.1:${server.port}`;
    const onUnified = ['whoami', 'get /tls-x509', 'get /tls-open', 'quit'];
    const netty = `${ZKCLI_ENV.CLIENT_JVMFLAGS}:${NETTY_TLS_JARS.join(':')}`;
    outputs = {
      // zkCli cannot write an x509 id with commas in an ACL argument; `auth` expands to it.
      withCert: transcript(await runZkCli(target, ['whoami', 'create /tls-x509 secret auth::cdrwa', 'get /tls-x509', 'getAcl /tls-x509', 'quit'], 60_000, zkCliTls(pki, true))),
      withoutCert: transcript(await runZkCli(target, ['whoami', 'get /tls-x509', 'create /tls-open x', 'get /tls-open', 'quit'], 60_000, zkCliTls(pki, false))),
    };
    Object.assign(outputs, {
      // The plaintext port, over TLS: zkCli with its -client-configuration file, then without TLS.
      unifiedTls: sortWhoAmI(transcript(await runZkCli(unified, onUnified, 60_000, netty, ['-client-configuration', config]))),
      unifiedPlain: transcript(await runZkCli(unified, onUnified)),
      shellUnifiedTls: sortWhoAmI(transcript((await run(process.execPath, [zabkeeperCli(), 'shell', '-server', unified, '-client-configuration', config], onUnified.join('\n'))).stdout)),
    });
    kazoo = await runPython('kazoo_tls.py', [target, pki.ca, pki.client.cert, pki.client.key, CLIENT_SUBJECT_RFC2253]);
    kazooUnified = await runPython('kazoo_tls.py', [unified, pki.ca, pki.client.cert, pki.client.key, CLIENT_SUBJECT_RFC2253, '/kazoo-unified', 'unified']);
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    pki?.remove();
  });

  test('zkCli.sh with a client certificate: its subject is the x509 id, usable in ACLs', () => {
    // whoami's order is Apache's hash set order: compare the ids as a set.
    const [head, a, b, ...rest] = outputs.withCert;
    expect([head, ...[a, b].sort(), ...rest]).toEqual([
      'Auth scheme: User',
      'ip: 127.0.0.1',
      `x509: ${CLIENT_SUBJECT_RFC2253}`,
      'Created /tls-x509',
      'secret',
      // zkCli's getAcl prints ids with ',' as %2C.
      `'x509,'${CLIENT_SUBJECT_RFC2253.replace(/,/g, '%2C')}`,
      ': cdrwa',
    ]);
  });

  test('zkCli.sh without a client certificate (ssl.clientAuth=want): connects, has no x509 id, cannot read the x509 node', () => {
    expect(outputs.withoutCert).toEqual(['Auth scheme: User', 'ip: 127.0.0.1', 'Insufficient permission : /tls-x509', 'Created /tls-open', 'x']);
  });

  test('kazoo over TLS, with and without a client certificate', () => {
    expect(scenario(kazoo, 'with_cert')).toMatchObject({ data: 'over tls', version: 0, acl: [`x509:${CLIENT_SUBJECT_RFC2253}:31`] });
    expect(scenario(kazoo, 'without_cert')).toMatchObject({ read_protected: 'NoAuthError', create_open: true });
  });

  test('client.portUnification: zkCli over TLS (its -client-configuration file) and in plaintext on the same port', () => {
    expect(outputs.unifiedTls).toEqual(['Auth scheme: User', 'ip: 127.0.0.1', `x509: ${CLIENT_SUBJECT_RFC2253}`, 'secret', 'x']);
    expect(outputs.unifiedPlain).toEqual(['Auth scheme: User', 'ip: 127.0.0.1', 'Insufficient permission : /tls-x509', 'x']);
  });

  test('zabkeeper shell with the same -client-configuration file prints what zkCli prints', () => {
    expect(outputs.shellUnifiedTls).toEqual(outputs.unifiedTls);
  });

  test('client.portUnification: kazoo over TLS with and without a certificate, and in plaintext, on one port', () => {
    expect(scenario(kazooUnified, 'with_cert')).toMatchObject({ data: 'over tls', acl: [`x509:${CLIENT_SUBJECT_RFC2253}:31`] });
    expect(scenario(kazooUnified, 'without_cert')).toMatchObject({ read_protected: 'NoAuthError', create_open: true });
    expect(scenario(kazooUnified, 'plaintext')).toMatchObject({ data: 'x' });
  });

  test('the plaintext port still serves, and four-letter words answer', async () => {
    expect(await server.fourLetter('ruok')).toBe('imok');
  });
});
