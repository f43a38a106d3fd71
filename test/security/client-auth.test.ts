import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuthFailedError, createClient, Perms, type ConnectionState, type SaslOutcome } from '../../src/client';
import { parseJvmFlags, parseZooCfg, type SecurityConfig } from '../../src/config';
import { startInProc, type InProcServer } from '../harness/inproc';
import { ClientConfigError, loadClientOptions } from '../../src/shell/clientConfig';
import { CLIENT_SUBJECT_RFC2253, makePki, type Pki } from './pki';

/**
 * Our client authenticates as ZooKeeper's Java client does: a SASL DIGEST-MD5 login before any
 * other request on every connection (so a reconnect logs in again), a refused login final
 * (authFailed, AuthFailedError, closed), and an x509 identity from the `tls` option's certificate.
 * The same client against Apache ZooKeeper is in test/compat/sasl.test.ts and tls-stores.test.ts.
 * `zabkeeper shell` reads these settings as zkCli does (-client-configuration, CLIENT_JVMFLAGS).
 */

let dir: string;
let pki: Pki;
let srv: InProcServer | undefined;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-client-auth-'));
  fs.writeFileSync(path.join(dir, 'jaas.conf'), 'Server {\n org.apache.zookeeper.server.auth.DigestLoginModule required user_bob="bobsecret";\n};\n');
  pki = makePki();
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  pki.remove();
});
afterEach(async () => {
  await srv?.stop();
  srv = undefined;
});

function security(lines: string, jvm = ''): SecurityConfig {
  const r = parseZooCfg(`dataDir=/unused\nclientPort=1\n${lines}`, { jvmFlags: parseJvmFlags(jvm, 'SERVER_JVMFLAGS') });
  const errors = r.issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e) => e.message).join('\n'));
  return r.config.security;
}

const SASL = 'authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n';
const ids = async (zk: Awaited<ReturnType<typeof createClient>>) => (await zk.whoAmI()).map((i) => `${i.authScheme}:${i.user}`).sort();

describe('SASL DIGEST-MD5 in createClient', () => {
  test('logs in before anything else, and again after a reconnect (the sasl ACL keeps working)', async () => {
    // enforce.auth: any request ahead of the login (a SetWatches after the reconnect, say) would be
    // answered -124 and the connection closed.
    const enforced = `${SASL}enforce.auth.enabled=true\nenforce.auth.schemes=sasl\n`;
    srv = await startInProc({ security: security(enforced, `-Djava.security.auth.login.config=${dir}/jaas.conf`) });
    const outcomes: SaslOutcome[] = [];
    const states: ConnectionState[] = [];
    const zk = await createClient(`127.0.0.1:${srv.port}`, { sessionTimeoutMs: 10_000, sasl: { username: 'bob', password: 'bobsecret' } });
    zk.on('sasl', (o) => outcomes.push(o));
    zk.on('state', (s) => states.push(s));
    try {
      expect(await ids(zk)).toEqual(['ip:127.0.0.1', 'sasl:bob']);
      await zk.create('/bob-only', 'b', { acl: [{ perms: Perms.all, id: { scheme: 'sasl', id: 'bob' } }] });
      const reconnected = new Promise<void>((resolve) => zk.on('state', (s) => s === 'reconnected' && resolve()));
      await srv.restart();
      await reconnected;
      // The same session on a new connection: authenticated again before 'reconnected'.
      expect(outcomes).toEqual([{ ok: true, mechanism: 'DIGEST-MD5', username: 'bob' }]);
      expect(states).toEqual(['suspended', 'reconnected']);
      const { data, watch } = await zk.getData('/bob-only', { watch: true });
      expect(data?.toString()).toBe('b');
      expect(await ids(zk)).toEqual(['ip:127.0.0.1', 'sasl:bob']);
      // Once more, with a watch to re-arm: SetWatches too waits for the login.
      const again = new Promise<void>((resolve) => zk.on('state', (s) => s === 'reconnected' && resolve()));
      await srv.restart();
      await again;
      await zk.setData('/bob-only', 'c');
      expect((await watch).type).toBe('nodeDataChanged');
      expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    } finally {
      await zk.close();
    }
    const anon = await createClient(`127.0.0.1:${srv.port}`);
    await expect(anon.getData('/bob-only', { retry: false })).rejects.toMatchObject({ code: -124 });
    await anon.close();
  });

  test('a wrong password or a server without SASL: AuthFailedError, authFailed, closed', async () => {
    srv = await startInProc({ security: security(SASL, `-Djava.security.auth.login.config=${dir}/jaas.conf`) });
    const states: ConnectionState[] = [];
    const zk = new (await import('../../src/client')).ZkClient(`127.0.0.1:${srv.port}`, { sasl: { username: 'bob', password: 'guess' } });
    zk.on('state', (s) => states.push(s));
    await expect(zk.connect()).rejects.toThrow(AuthFailedError);
    expect(states).toEqual(['authFailed', 'closed']);
    await expect(zk.exists('/')).rejects.toThrow(/SASL DIGEST-MD5 login as bob refused by the server/);
    await srv.stop();
    srv = await startInProc({ security: security('') });
    await expect(createClient(`127.0.0.1:${srv.port}`, { sasl: { username: 'bob', password: 'bobsecret' } })).rejects.toThrow(/login as bob failed: challenge without nonce/);
  });
});

describe('x509 through the tls option', () => {
  test('a client certificate is the session\'s x509 id; PKCS12 via pfx; hostnameVerification=false accepts a certificate naming another host', async () => {
    const lines = `secureClientPort=1\nsecureClientPortAddress=127.0.0.1\nssl.keyStore.location=${pki.server.pem}\nssl.trustStore.location=${pki.ca}\n`;
    srv = await startInProc({ security: { ...security(lines), secureClientPort: 0 } });
    const at = `127.0.0.1:${srv.server.securePort}`;
    const ca = fs.readFileSync(pki.ca);
    const zk = await createClient(at, { tls: { ca, cert: fs.readFileSync(pki.client.cert), key: fs.readFileSync(pki.client.key) } });
    expect(await ids(zk)).toEqual(['ip:127.0.0.1', `x509:${CLIENT_SUBJECT_RFC2253}`]);
    await zk.close();
    const viaPfx = await createClient(at, { tls: { ca, pfx: fs.readFileSync(pki.p12(pki.client, 'p12pass')), passphrase: 'p12pass' } });
    expect(await ids(viaPfx)).toEqual(['ip:127.0.0.1', `x509:${CLIENT_SUBJECT_RFC2253}`]);
    await viaPfx.close();
    // A server certificate for another name: refused by default, accepted with the check off.
    const other = pki.issue('other', '/CN=elsewhere', 'DNS:elsewhere.example');
    await srv.stop();
    srv = await startInProc({ security: { ...security(lines.replace(pki.server.pem, other.pem)), secureClientPort: 0 } });
    const there = `127.0.0.1:${srv.server.securePort}`;
    const key = { cert: fs.readFileSync(pki.client.cert), key: fs.readFileSync(pki.client.key) };
    await expect(createClient(there, { connectTimeoutMs: 1500, tls: { ca, ...key } })).rejects.toThrow(/no ZooKeeper server reachable/);
    const lax = await createClient(there, { tls: { ca, ...key, hostnameVerification: false } });
    expect(await ids(lax)).toEqual(['ip:127.0.0.1', `x509:${CLIENT_SUBJECT_RFC2253}`]);
    await lax.close();
  });
});

describe('zabkeeper shell: -client-configuration and CLIENT_JVMFLAGS', () => {
  let files = 0;
  const cfg = (text: string): string => {
    const f = path.join(dir, `client-${files++}.properties`);
    fs.writeFileSync(f, text);
    return f;
  };

  test('TLS and SASL from the file and the flags; the file wins; clientCnxnSocket is accepted and ignored', () => {
    fs.writeFileSync(path.join(dir, 'client.jaas'), 'Client { org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password="from-jaas"; };');
    const file = cfg([
      'zookeeper.client.secure=true',
      'zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty',
      `zookeeper.ssl.trustStore.location=${pki.ca}`,
      `zookeeper.ssl.keyStore.location=${pki.client.pem}`,
      'zookeeper.ssl.protocol=TLSv1.3',
      'zookeeper.ssl.hostnameVerification=false',
    ].join('\n'));
    const o = loadClientOptions(file, { CLIENT_JVMFLAGS: `-cp x.jar -Djava.security.auth.login.config=${dir}/client.jaas -Dzookeeper.ssl.protocol=TLSv1.2` });
    expect(o.sasl).toEqual({ mechanism: 'DIGEST-MD5', username: 'bob', password: 'from-jaas' });
    expect(o.tls).toMatchObject({ ca: expect.stringContaining('BEGIN CERTIFICATE'), cert: expect.stringContaining('PRIVATE KEY'), hostnameVerification: false, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
    // zookeeper.sasl.client=false: no login even with a JAAS file; no client.secure: no TLS.
    expect(loadClientOptions(undefined, { CLIENT_JVMFLAGS: `-Djava.security.auth.login.config=${dir}/client.jaas -Dzookeeper.sasl.client=false` })).toEqual({});
  });

  test('what cannot be honoured is refused, naming the key and the file line', () => {
    const refuse = (file: string | undefined, env: NodeJS.ProcessEnv = {}) => {
      try {
        loadClientOptions(file, env);
      } catch (err) {
        expect(err).toBeInstanceOf(ClientConfigError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refuse(cfg('zookeeper.client.secure=true\nzookeeper.ssl.crl=true\n'))).toMatch(/client-\S+\.properties:2: ssl\.crl is not supported: CRL checking/);
    expect(refuse(undefined, { JVMFLAGS: '-Djavax.net.ssl.trustStore=/etc/ts.jks' })).toMatch(/javax\.net\.ssl\.trustStore is not supported: set ssl\.trustStore\.location instead \(from -Djavax\.net\.ssl\.trustStore in JVMFLAGS\)/);
    expect(refuse(cfg('zookeeper.client.secure=true\nzookeeper.ssl.trustStore.location=/nope.pem\n'))).toMatch(/zookeeper\.ssl\.trustStore\.location: cannot read \/nope\.pem: ENOENT/);
    fs.writeFileSync(path.join(dir, 'krb.jaas'), 'Client { com.sun.security.auth.module.Krb5LoginModule required useTicketCache=true; };');
    expect(refuse(undefined, { CLIENT_JVMFLAGS: `-Djava.security.auth.login.config=${dir}/krb.jaas` })).toMatch(/Kerberos/);
    expect(refuse(undefined, { CLIENT_JVMFLAGS: `-Djava.security.auth.login.config=${dir}/client.jaas -Dzookeeper.sasl.clientconfig=ZkClient` })).toMatch(/no JAAS section named 'ZkClient'/);
    expect(refuse(path.join(dir, 'missing.properties'))).toMatch(/-client-configuration: cannot read .*missing\.properties: ENOENT/);
  });
});
