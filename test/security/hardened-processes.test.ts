import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { startEnsemble, type TestEnsemble } from '../../scripts/lib/ensemble-process';
import { freePort } from '../../scripts/lib/zk-process';
import { createClient, RetryForever, type ZkClient } from '../../src/client';
import { ErrorCode } from '../../protocol/jute/constants';
import { until, within } from '../harness/wait';
import { CLIENT_SUBJECT_RFC2253, makePki, type Pki } from './pki';

/**
 * A hardened zoo.cfg as an operator writes it (TLS client port with client certificates required
 * and x509 ACLs, enforce.auth x509, sslQuorum with mutual TLS, quorum auth from a JAAS file) runs as
 * three real member processes: a certificate-holding client writes through kill -9 of the leader
 * and of every member without losing an acknowledged write, and a client without a certificate
 * gets nothing.
 */

let pki: Pki;
let dir: string;
let ens: TestEnsemble;
let securePorts: number[];

const X509_ACL = [{ perms: 31, id: { scheme: 'x509', id: CLIENT_SUBJECT_RFC2253 } }];

beforeAll(async () => {
  pki = makePki();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-hardened-'));
  const jaas = path.join(dir, 'jaas.conf');
  fs.writeFileSync(jaas, 'QuorumServer {\n org.apache.zookeeper.server.auth.DigestLoginModule required user_zk="quorum-secret";\n};\nQuorumLearner {\n org.apache.zookeeper.server.auth.DigestLoginModule required username="zk" password="quorum-secret";\n};\n');
  securePorts = [await freePort(), await freePort(), await freePort()];
  ens = await startEnsemble('zabkeeper', 3, {
    tickTime: 500,
    extraCfg: {
      // Sessions outlive the restart of every member on a busy machine.
      maxSessionTimeout: '60000',
      secureClientPortAddress: '127.0.0.1',
      'ssl.keyStore.location': pki.server.pem,
      'ssl.trustStore.location': pki.ca,
      'ssl.clientAuth': 'need',
      'authProvider.x509': 'org.apache.zookeeper.server.auth.X509AuthenticationProvider',
      'enforce.auth.enabled': 'true',
      'enforce.auth.schemes': 'x509',
      sslQuorum: 'true',
      'ssl.quorum.keyStore.location': pki.server.pem,
      'ssl.quorum.trustStore.location': pki.ca,
      'quorum.auth.enableSasl': 'true',
      'quorum.auth.learnerRequireSasl': 'true',
      'quorum.auth.serverRequireSasl': 'true',
      // The JAAS file as a zoo.cfg key (zabkeeper also reads it from SERVER_JVMFLAGS, as ZooKeeper does).
      'java.security.auth.login.config': jaas,
    },
    memberCfg: (id) => ({ secureClientPort: String(securePorts[id - 1]) }),
  });
  await ens.waitServing();
}, 120_000);

afterAll(async () => {
  await ens?.stop();
  pki?.remove();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Every member running (a failed test may have left one killed). */
async function allRunning(): Promise<void> {
  for (const m of ens.members) if (!m.running()) await m.start();
  await ens.waitServing();
}

/**
 * Sequential creates under x509 ACLs until stopped; what was acknowledged. The client's retry
 * policy rides out the kills (protected creates); anything else it cannot is kept and ends the run.
 */
function writer(zk: ZkClient, parent: string) {
  const acked: string[] = [];
  let stop = false;
  let failure: unknown;
  const done = (async () => {
    while (!stop && failure === undefined) {
      await zk.create(`${parent}/w-`, 'v', { mode: 'persistentSequential', acl: X509_ACL }).then(
        (r) => acked.push(r.path.slice(parent.length + 1)),
        (err: unknown) => (failure = err),
      );
    }
  })();
  const progress = (): number => {
    if (failure !== undefined) throw failure;
    return acked.length;
  };
  return { acked, progress, stop: async () => ((stop = true), await done) };
}

test('a TLS client with a certificate is its x509 id and writes through kill -9 of the leader and of all members', async () => {
  await allRunning();
  const zk = await createClient(securePorts.map((p) => `127.0.0.1:${p}`).join(','), {
    tls: { ca: fs.readFileSync(pki.ca), cert: fs.readFileSync(pki.client.cert), key: fs.readFileSync(pki.client.key) },
    sessionTimeoutMs: 60_000,
    connectTimeoutMs: 20_000,
    retryPolicy: new RetryForever(100),
  });
  try {
    expect((await zk.whoAmI()).map((i) => `${i.authScheme}:${i.user}`).sort()).toEqual(['ip:127.0.0.1', `x509:${CLIENT_SUBJECT_RFC2253}`]);
    await zk.create('/hardened', 'x', { acl: X509_ACL });
    const w = writer(zk, '/hardened');
    await until(() => w.progress() >= 50, 'the writer to have 50 creates acknowledged');
    const leader = await ens.waitLeader();
    await ens.members[leader]!.kill9();
    const before = w.acked.length;
    await until(() => w.progress() >= before + 50, `50 more creates acknowledged after kill -9 of the leader (member ${leader + 1})`, 60_000);
    await ens.members[leader]!.start();
    await Promise.all(ens.members.map((m) => m.kill9()));
    // The create in flight is retried until a member answers again: stop after the restart.
    const stopped = w.stop();
    await Promise.all(ens.members.map((m) => m.start()));
    await ens.waitServing();
    await within(stopped, 'the create in flight during kill -9 of all members to finish after their restart', 60_000);
    expect(w.progress()).toBe(w.acked.length);
    await zk.sync('/hardened');
    const present = new Set((await zk.getChildren('/hardened')).children);
    expect(w.acked.filter((p) => !present.has(p))).toEqual([]);
    // eslint-disable-next-line no-console
    console.log(`hardened ensemble: ${w.acked.length} acknowledged over TLS across kill -9 of the leader and of all members, 0 missing`);
  } finally {
    await zk.close();
  }
}, 180_000);

test('without a client certificate the TLS handshake is refused; the plaintext port answers every request -124', async () => {
  await allRunning();
  // The server ends the handshake with an alert (handshake_failure under TLS 1.2, the default
  // ssl.protocol; certificate_required under 1.3). Nothing is sent: data the server never reads
  // would turn its close into a reset that could overtake the alert.
  const err = await within(
    new Promise<string>((resolve) => {
      let message = '';
      const s = tls.connect({ host: '127.0.0.1', port: securePorts[0]!, ca: fs.readFileSync(pki.ca) });
      s.on('error', (e) => (message = e.message));
      s.on('close', () => resolve(message));
    }),
    'the server to end a TLS connection without a client certificate',
  );
  expect(err).toMatch(/alert (handshake failure|certificate required)/i);
  const plain = await createClient(`127.0.0.1:${ens.members[0]!.clientPort}`, { connectTimeoutMs: 20_000 });
  try {
    await expect(plain.getData('/')).rejects.toMatchObject({ code: ErrorCode.sessionClosedRequireSaslAuth });
  } finally {
    await plain.close();
  }
}, 120_000);
