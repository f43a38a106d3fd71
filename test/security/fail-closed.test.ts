import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseZooCfg, parseJvmFlags, documentedKeys } from '../../src/config';
import { requireBuiltCli } from '../harness/cli';
import { fourLetterTls, listeningPorts } from './helpers';
import { makePki } from './pki';
import { until } from '../harness/wait';
import { freePort } from '../../scripts/lib/zk-process';

/**
 * Fail closed: a hardened ZooKeeper config either runs with every protection it asks for or the
 * server refuses to start with a message naming the key; a config with only secureClientPort never
 * opens a plaintext port. Table-driven over configs an operator would copy from ZooKeeper.
 */

const BASE = 'tickTime=2000\ndataDir=/tmp/zk-fail-closed\n';

type Row = {
  name: string;
  cfg: string;
  /** -D flags as SERVER_JVMFLAGS would carry them. */
  jvm?: string;
  /** The start is refused and the message names this key (and contains `says`). */
  refuses?: { key: string; says?: string };
};

const TABLE: Row[] = [
  // Kept out on purpose, whatever else lands.
  { name: 'a BCFKS key store', cfg: 'secureClientPort=2281\nssl.keyStore.location=/etc/zk/keystore.bcfks\nssl.keyStore.password=pw\n', refuses: { key: 'ssl.keyStore.location', says: 'keytool -importkeystore' } },
  { name: 'an explicit BCFKS type', cfg: 'secureClientPort=2281\nssl.keyStore.location=/etc/zk/ks\nssl.keyStore.type=BCFKS\n', refuses: { key: 'ssl.keyStore.type', says: 'PKCS12' } },
  { name: 'an unknown store type', cfg: 'secureClientPort=2281\nssl.keyStore.location=/etc/zk/ks\nssl.keyStore.type=JCEKS\n', refuses: { key: 'ssl.keyStore.type', says: 'PEM, PKCS12 or JKS' } },
  { name: 'CRL checking', cfg: 'ssl.crl=true\n', refuses: { key: 'ssl.crl', says: 'CRL' } },
  { name: 'OCSP on the quorum', cfg: 'ssl.quorum.ocsp=true\n', refuses: { key: 'ssl.quorum.ocsp', says: 'OCSP' } },
  { name: 'Kerberos principal shortening', cfg: 'kerberos.removeHostFromPrincipal=true\n', refuses: { key: 'kerberos.removeHostFromPrincipal', says: 'Kerberos' } },
  { name: 'a Kerberos quorum principal', cfg: 'quorum.auth.kerberos.servicePrincipal=zkquorum/_HOST\n', refuses: { key: 'quorum.auth.kerberos.servicePrincipal', says: 'Kerberos' } },
  { name: 'a custom auth provider class', cfg: 'authProvider.1=com.example.TokenAuthenticationProvider\n', refuses: { key: 'authProvider.1', says: 'com.example.TokenAuthenticationProvider' } },
  { name: 'a Java SSLContext supplier', cfg: 'ssl.context.supplier.class=com.example.Ctx\n', refuses: { key: 'ssl.context.supplier.class' } },
  { name: 'letAnySaslUserDoX', cfg: 'letAnySaslUserDoX=anyone\n', refuses: { key: 'letAnySaslUserDoX' } },
  { name: 'fips-mode', cfg: 'fips-mode=true\n', refuses: { key: 'fips-mode', says: 'FIPS' } },
  // audit.enable=true is implemented (src/server/audit.ts); a custom audit logger class is not.
  { name: 'a custom audit logger class', cfg: 'audit.impl.class=com.example.AuditLogger\n', refuses: { key: 'audit.impl.class', says: 'audit' } },
  { name: 'skipACL', cfg: 'skipACL=yes\n', refuses: { key: 'skipACL' } },
  { name: 'an HTTPS-only AdminServer', cfg: 'admin.forceHttps=true\n', refuses: { key: 'admin.forceHttps' } },
  { name: 'an unknown ssl key', cfg: 'ssl.keyStore.alias=zk\n', refuses: { key: 'ssl.keyStore.alias' } },
  { name: 'a protocol older than TLS 1.2', cfg: 'ssl.protocol=TLSv1.1\n', refuses: { key: 'ssl.protocol', says: 'TLSv1.1' } },
  { name: 'an unknown cipher suite', cfg: 'ssl.ciphersuites=TLS_RSA_WITH_RC4_128_MD5\n', refuses: { key: 'ssl.ciphersuites', says: 'TLS_RSA_WITH_RC4_128_MD5' } },
  { name: 'a security key with the zookeeper. prefix in zoo.cfg', cfg: 'zookeeper.ssl.keyStore.location=/etc/zk/k.pem\n', refuses: { key: 'zookeeper.ssl.keyStore.location', says: 'write ssl.keyStore.location' } },
  { name: 'the JSSE default trust store as a JVM flag', cfg: '', jvm: '-Xmx512m -Djavax.net.ssl.trustStore=/etc/ssl/cacerts', refuses: { key: 'javax.net.ssl.trustStore', says: 'SERVER_JVMFLAGS' } },
  { name: 'a Kerberos JVM flag', cfg: '', jvm: '-Djava.security.krb5.conf=/etc/krb5.conf', refuses: { key: 'java.security.krb5.conf', says: 'Kerberos' } },
  { name: 'enforce.auth without schemes (ZooKeeper\'s own rule)', cfg: 'enforce.auth.enabled=true\n', refuses: { key: 'enforce.auth.enabled' } },
  { name: 'quorum SASL required but not enabled (ZooKeeper\'s own rule)', cfg: 'quorum.auth.serverRequireSasl=true\nquorum.auth.learnerRequireSasl=true\n', refuses: { key: 'quorum.auth.serverRequireSasl', says: 'quorum.auth.enableSasl is disabled' } },
  { name: 'allowSaslFailedClients', cfg: '', jvm: '-Dzookeeper.allowSaslFailedClients=true', refuses: { key: 'allowSaslFailedClients', says: '-Dzookeeper.allowSaslFailedClients' } },
  // Settings that cannot work as written.
  { name: 'a secure client port without a key store', cfg: 'secureClientPort=2281\n', refuses: { key: 'secureClientPort', says: 'ssl.keyStore.location' } },
  { name: 'secureClientPortAddress without secureClientPort', cfg: 'secureClientPortAddress=127.0.0.1\n', refuses: { key: 'secureClientPortAddress' } },
  { name: 'sslQuorum without a trust store', cfg: 'sslQuorum=true\nssl.quorum.keyStore.location=/etc/zk/q.pem\n', refuses: { key: 'sslQuorum', says: 'ssl.quorum.trustStore.location' } },
  { name: 'TLS on the plaintext client port without a key store', cfg: 'client.portUnification=true\n', refuses: { key: 'client.portUnification', says: 'ssl.keyStore.location' } },
  { name: 'enforce.auth naming a scheme with no provider (ZooKeeper\'s own rule)', cfg: 'enforce.auth.enabled=true\nenforce.auth.schemes=sasl\n', refuses: { key: 'enforce.auth.schemes', says: 'Authentication scheme sasl is not available.' } },
];

const errorsOf = (cfg: string, jvm?: string) =>
  parseZooCfg(BASE + 'clientPort=2181\n' + cfg, { jvmFlags: parseJvmFlags(jvm ?? '', 'SERVER_JVMFLAGS') }).issues.filter((i) => i.severity === 'error');

describe('hardened configurations: refuse to start, naming the key', () => {
  test.each(TABLE.filter((r) => r.refuses).map((r) => [r.name, r] as const))('%s', (_name, row) => {
    const errors = errorsOf(row.cfg, row.jvm);
    const named = errors.filter((e) => e.key === row.refuses!.key || e.message.includes(row.refuses!.key));
    expect({ errors: errors.map((e) => e.message), found: named.length > 0 }).toEqual({ errors: expect.anything(), found: true });
    if (row.refuses!.says) expect(named.map((e) => e.message).join('\n')).toContain(row.refuses!.says);
  });

  test('harmless defaults of refused features are accepted (false asks for nothing)', () => {
    expect(errorsOf('ssl.crl=false\nssl.ocsp=false\nfips-mode=false\naudit.enable=false\nskipACL=no\nsslQuorum=false\nallowSaslFailedClients=false\nauthProvider.2=org.apache.zookeeper.server.auth.DigestAuthenticationProvider\n')).toEqual([]);
  });

  test('a zoo.cfg line wins over the same -Dzookeeper flag', () => {
    expect(errorsOf('fips-mode=false\n', '-Dzookeeper.fips-mode=true')).toEqual([]);
    expect(errorsOf('', '-Dzookeeper.fips-mode=true').map((e) => e.key)).toEqual(['fips-mode']);
  });

  test('README documents every security key', () => {
    const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
    const missing = documentedKeys().filter((k) => !readme.includes(`\`${k.key}\``)).map((k) => k.key);
    expect(missing).toEqual([]);
  });
});

describe('the real server process', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-fail-closed-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Runs `zabkeeper server`; resolves with its exit code and output once it exits (bounded). */
  function run(cfgText: string, env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
    const cfg = path.join(dir, `zoo-${Math.random().toString(36).slice(2)}.cfg`);
    fs.writeFileSync(cfg, `tickTime=2000\ndataDir=${dir}/data\n` + cfgText);
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [requireBuiltCli(), 'server', '--config', cfg], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const timer = setTimeout(async () => {
        const ports = await listeningPorts(child.pid!).catch(() => []);
        child.kill('SIGKILL');
        reject(new Error(`server did not refuse to start within 20 s (listening on ${ports.join(', ') || 'nothing'}); output:\n${out}`));
      }, 20_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, out });
      });
    });
  }

  test.each([
    ['a secure client port whose key store is missing', 'secureClientPort=2281\nsecureClientPortAddress=127.0.0.1\nssl.keyStore.location=/nonexistent/server.pem\n', {}, 'ssl.keyStore.location'],
    ['a SASL provider given as JVM flags, its JAAS file missing', 'clientPort=2999\nclientPortAddress=127.0.0.1\n', { SERVER_JVMFLAGS: '-Dzookeeper.authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider -Djava.security.auth.login.config=/nonexistent/jaas.conf' }, 'java.security.auth.login.config'],
    ['a BCFKS trust store', 'clientPort=2999\nclientPortAddress=127.0.0.1\nssl.trustStore.location=/etc/zk/truststore.bcfks\n', {}, 'ssl.trustStore.location'],
  ] as const)('%s: exits non-zero naming the key, before opening any port', async (_name, cfgText, env, key) => {
    const { code, out } = await run(cfgText, env);
    expect(code).not.toBe(0);
    expect(out).toContain(key);
    expect(out).toMatch(/invalid configuration|failed to start/);
  });

  test('a config with only secureClientPort listens on that port and on nothing else', async () => {
    const pki = makePki();
    const port = await freePort();
    const cfg = path.join(dir, 'secure-only.cfg');
    fs.writeFileSync(cfg, `tickTime=2000\ndataDir=${dir}/secure-only\nsecureClientPort=${port}\nsecureClientPortAddress=127.0.0.1\nssl.keyStore.location=${pki.server.pem}\nssl.trustStore.location=${pki.ca}\nssl.clientAuth=none\n`);
    const child = spawn(process.execPath, [requireBuiltCli(), 'server', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await until(async () => (await fourLetterTls(port, 'ruok', { ca: fs.readFileSync(pki.ca), servername: 'localhost' })) === 'imok', () => `ruok over TLS on ${port} (stderr: ${err})`, 20_000, 100);
      expect(await listeningPorts(child.pid!)).toEqual([port]);
    } finally {
      child.kill('SIGTERM');
      await exited;
      pki.remove();
    }
  });
});
