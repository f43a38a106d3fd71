import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { ErrorCode, OpCode, Perms } from '../../protocol/jute/constants';
import { readWhoAmIResponse } from '../../protocol/jute/records';
import { parseZooCfg } from '../../src/config';
import { requests as rq } from '../../src/client/requests';
import { WireConnection } from '../../src/client/wire';
import { createClient } from '../../src/client';
import { ZkServer } from '../../src/server/zkserver';
import { startInProc, type InProcServer } from '../harness/inproc';
import { CLIENT_SUBJECT_RFC2253, makePki, type Pki } from './pki';
import { until } from '../harness/wait';
import { fourLetterTls } from './helpers';
import { fourLetter } from '../../scripts/lib/zk-process';
import pino from 'pino';

/**
 * TLS on the client port with ZooKeeper's keys: secureClientPort beside or instead of clientPort,
 * PEM and PKCS12 key stores, ssl.clientAuth none/want/need, protocols, the x509 identity of a client
 * certificate in ACLs, four-letter words over TLS, key stores reloaded when their files change, and
 * client.portUnification (TLS and plaintext on one port).
 */

let pki: Pki;
beforeAll(() => {
  pki = makePki();
});
afterAll(() => pki.remove());

function securityOf(lines: string): ReturnType<typeof parseZooCfg>['config']['security'] {
  const r = parseZooCfg(`dataDir=/unused\nclientPort=2181\n${lines}`);
  const errors = r.issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e) => e.message).join('\n'));
  return r.config.security;
}

/** Security settings of a zoo.cfg with a secure client port on a free port (0: picked at listen). */
function secureOn0(lines: string): ReturnType<typeof securityOf> {
  return { ...securityOf(`secureClientPort=1\nsecureClientPortAddress=127.0.0.1\n${lines}`), secureClientPort: 0 };
}

async function tlsServer(lines: string): Promise<InProcServer & { securePort: number }> {
  const srv = await startInProc({ security: secureOn0(lines) });
  return Object.assign(srv, { securePort: srv.server.securePort! });
}

const clientTls = (extra: tls.ConnectionOptions = {}): tls.ConnectionOptions => ({ ca: fs.readFileSync(pki.ca), servername: 'localhost', ...extra });
const withCert = (id = pki.client): tls.ConnectionOptions => clientTls({ cert: fs.readFileSync(id.cert), key: fs.readFileSync(id.key) });

async function whoAmI(c: WireConnection): Promise<string[]> {
  const r = await c.request(OpCode.whoAmI, undefined, readWhoAmIResponse);
  return r.body!.clientInfo.map((i) => `${i.authScheme}:${i.user}`);
}

/** Resolves with the handshake's outcome: 'ok' or the error text. */
function handshake(port: number, opts: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, ...opts }, () => {
      // A refusal of the client certificate arrives after the client's side of the handshake: read.
      s.write('ruok');
    });
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('close', () => resolve(out === 'imok' ? 'ok' : `closed (${out || 'no answer'})`));
    s.on('error', (e) => resolve(e.message));
  });
}

describe('secure client port', () => {
  test('plaintext and TLS side by side; x509 identity from the client certificate; 4lw over TLS', async () => {
    const srv = await tlsServer(`ssl.keyStore.location=${pki.server.pem}\nssl.trustStore.location=${pki.ca}\nssl.clientAuth=want\n`);
    try {
      const plain = await srv.connect();
      const secure = await WireConnection.connect({ host: '127.0.0.1', port: srv.securePort, tls: withCert() });
      const anon = await WireConnection.connect({ host: '127.0.0.1', port: srv.securePort, tls: clientTls() });
      expect(await whoAmI(secure)).toEqual(['ip:127.0.0.1', `x509:${CLIENT_SUBJECT_RFC2253}`]);
      expect(await whoAmI(anon)).toEqual(['ip:127.0.0.1']);
      // The certificate's identity in an ACL: only its holder can read.
      const acl = [{ perms: Perms.all, id: { scheme: 'x509', id: CLIENT_SUBJECT_RFC2253 } }];
      expect((await rq.create(secure, '/x509-only', Buffer.from('s'), 0, acl)).err).toBe(ErrorCode.ok);
      expect((await rq.getData(secure, '/x509-only')).body?.data?.toString()).toBe('s');
      expect((await rq.getData(anon, '/x509-only')).err).toBe(ErrorCode.noAuth);
      expect((await rq.getData(plain, '/x509-only')).err).toBe(ErrorCode.noAuth);
      expect(await fourLetterTls(srv.securePort, 'ruok', withCert())).toBe('imok');
      expect(await fourLetterTls(srv.securePort, 'srvr', clientTls())).toMatch(/^Zookeeper version: /);
      expect(await fourLetterTls(srv.securePort, 'conf', clientTls())).toContain(`secureClientPort=${srv.securePort}\n`);
      for (const c of [plain, secure, anon]) c.close();
    } finally {
      await srv.stop();
    }
  });

  test('createClient({ tls }): our client over TLS with a client certificate', async () => {
    const srv = await tlsServer(`ssl.keyStore.location=${pki.server.pem}\nssl.trustStore.location=${pki.ca}\nssl.clientAuth=need\n`);
    try {
      const zk = await createClient(`127.0.0.1:${srv.securePort}`, { tls: { ca: fs.readFileSync(pki.ca), cert: fs.readFileSync(pki.client.cert), key: fs.readFileSync(pki.client.key), servername: 'localhost' }, sessionTimeoutMs: 4000 });
      await zk.create('/from-ts-client', 'tls');
      expect((await zk.getData('/from-ts-client')).data?.toString()).toBe('tls');
      await zk.close();
    } finally {
      await srv.stop();
    }
  });

  test('ssl.clientAuth: need refuses a client without a certificate; want and need refuse an untrusted one; none asks for none', async () => {
    const base = `ssl.keyStore.location=${pki.server.pem}\nssl.trustStore.location=${pki.ca}\n`;
    const outcomes: Record<string, Record<string, boolean>> = {};
    for (const mode of ['need', 'want', 'none']) {
      const srv = await tlsServer(`${base}ssl.clientAuth=${mode}\n`);
      try {
        outcomes[mode] = {
          trusted: (await handshake(srv.securePort, withCert())) === 'ok',
          none: (await handshake(srv.securePort, clientTls())) === 'ok',
          rogue: (await handshake(srv.securePort, withCert(pki.rogue))) === 'ok',
        };
      } finally {
        await srv.stop();
      }
    }
    // `none` never asks, so the rogue certificate is never even sent.
    expect(outcomes).toEqual({
      need: { trusted: true, none: false, rogue: false },
      want: { trusted: true, none: true, rogue: false },
      none: { trusted: true, none: true, rogue: true },
    });
  });

  test('clients check the server certificate: wrong CA or wrong name fails', async () => {
    const srv = await tlsServer(`ssl.keyStore.location=${pki.server.pem}\nssl.clientAuth=none\n`);
    try {
      expect(await handshake(srv.securePort, clientTls())).toBe('ok');
      expect(await handshake(srv.securePort, { ca: fs.readFileSync(`${pki.dir}/rogue-ca.pem`), servername: 'localhost' })).toMatch(/self-signed|unable to (get|verify)/i);
      expect(await handshake(srv.securePort, clientTls({ servername: 'zk.example.com' }))).toMatch(/does not match|altnames/i);
    } finally {
      await srv.stop();
    }
  });

  test('protocols and suites: TLSv1.3 only refuses a TLS 1.2 client; a chosen TLS 1.2 suite is the one used', async () => {
    const srv13 = await tlsServer(`ssl.keyStore.location=${pki.server.pem}\nssl.clientAuth=none\nssl.protocol=TLSv1.3\nssl.enabledProtocols=TLSv1.3\n`);
    try {
      expect(await handshake(srv13.securePort, clientTls({ maxVersion: 'TLSv1.2' }))).toMatch(/protocol|version/i);
      expect(await handshake(srv13.securePort, clientTls())).toBe('ok');
    } finally {
      await srv13.stop();
    }
    const srv12 = await tlsServer(`ssl.keyStore.location=${pki.server.pem}\nssl.clientAuth=none\nssl.ciphersuites=TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384\n`);
    try {
      const cipher = await new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: srv12.securePort, ...clientTls() }, () => {
          resolve(`${s.getProtocol()} ${s.getCipher().name}`);
          s.destroy();
        });
        s.on('error', reject);
      });
      expect(cipher).toBe('TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384');
    } finally {
      await srv12.stop();
    }
  });

  test('PKCS12 key store with a password file; a wrong password or an unusable store refuses the start, naming the key', async () => {
    const p12 = pki.p12(pki.server, 'storepw');
    fs.writeFileSync(`${pki.dir}/pw.txt`, 'storepw\n');
    const srv = await tlsServer(`ssl.keyStore.location=${p12}\nssl.keyStore.passwordPath=${pki.dir}/pw.txt\nssl.clientAuth=none\n`);
    try {
      expect(await handshake(srv.securePort, clientTls())).toBe('ok');
    } finally {
      await srv.stop();
    }
    const logger = pino({ level: 'silent' });
    const start = (lines: string) => ZkServer.start({ ...srv.options, port: 0, security: secureOn0(lines) }, logger);
    await expect(start(`ssl.keyStore.location=${p12}\nssl.keyStore.password=wrong\n`)).rejects.toThrow(/ssl\.keyStore\.location: .*\.p12 \(PKCS12\): wrong password/);
    // As for Java, a trust store that is a key store trusts its key's certificate.
    const started = await start(`ssl.keyStore.location=${pki.server.pem}\nssl.trustStore.location=${p12}\nssl.trustStore.password=storepw\n`);
    await started.close();
    await expect(start(`ssl.keyStore.location=${pki.dir}/missing.pem\n`)).rejects.toThrow(/ssl\.keyStore\.location: cannot read .*missing\.pem: ENOENT/);
    await expect(start(`ssl.keyStore.location=${pki.server.cert}\nssl.keyStore.type=PEM\n`)).rejects.toThrow(/holds no PEM private key/);
  });

  test('client.certReload: a replaced key store is served to new connections without a restart', async () => {
    const live = `${pki.dir}/live.pem`;
    fs.copyFileSync(pki.server.pem, live);
    const srv = await tlsServer(`ssl.keyStore.location=${live}\nssl.keyStore.type=PEM\nssl.clientAuth=none\nclient.certReload=true\n`);
    const peerCn = () =>
      new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: srv.securePort, ...clientTls() }, () => {
          resolve(String(s.getPeerCertificate().subject.CN));
          s.destroy();
        });
        s.on('error', reject);
      });
    try {
      expect(await peerCn()).toBe('localhost');
      const next = pki.issue('rotated', '/CN=localhost/O=rotated');
      // Written the way certificate managers rotate: a new file renamed over the old one.
      fs.writeFileSync(`${live}.tmp`, fs.readFileSync(next.pem));
      fs.renameSync(`${live}.tmp`, live);
      let seen = '';
      await until(async () => {
        seen = await new Promise<string>((resolve, reject) => {
          const s = tls.connect({ host: '127.0.0.1', port: srv.securePort, ...clientTls() }, () => {
            resolve(String(s.getPeerCertificate().subject.O));
            s.destroy();
          });
          s.on('error', reject);
        });
        return seen === 'rotated';
      }, () => `the rotated certificate to be served (last O=${seen})`, 15_000, 100);
    } finally {
      await srv.stop();
    }
  });
});

describe('client.portUnification', () => {
  test('one port: plaintext and TLS clients told apart by the first byte, x509 on TLS, 4lw both ways, untrusted certificates and silent sockets dropped', async () => {
    const lines = `client.portUnification=true\nssl.keyStore.location=${pki.server.pem}\nssl.trustStore.location=${pki.ca}\nssl.clientAuth=want\nssl.handshakeDetectionTimeoutMillis=300\n`;
    const srv = await startInProc({ security: securityOf(lines) });
    try {
      const port = srv.port;
      expect(srv.server.securePort).toBeUndefined();
      const plain = await createClient(`127.0.0.1:${port}`);
      const secure = await createClient(`127.0.0.1:${port}`, { tls: { ca: fs.readFileSync(pki.ca), cert: fs.readFileSync(pki.client.cert), key: fs.readFileSync(pki.client.key) } });
      const ids = async (zk: typeof plain) => (await zk.whoAmI()).map((i) => `${i.authScheme}:${i.user}`).sort();
      expect(await ids(plain)).toEqual(['ip:127.0.0.1']);
      expect(await ids(secure)).toEqual(['ip:127.0.0.1', `x509:${CLIENT_SUBJECT_RFC2253}`]);
      await secure.create('/unified', 'both');
      expect((await plain.getData('/unified')).data?.toString()).toBe('both');
      await Promise.all([plain.close(), secure.close()]);
      expect(await fourLetterTls(port, 'ruok', clientTls())).toBe('imok');
      expect(await fourLetter(port, 'ruok')).toBe('imok');
      expect(await handshake(port, withCert(pki.rogue))).not.toBe('ok');
      // A socket that never speaks is closed once ssl.handshakeDetectionTimeoutMillis has passed.
      const silent = net.connect({ host: '127.0.0.1', port });
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        new Promise((resolve) => silent.on('close', () => resolve('closed by the server'))),
        new Promise((resolve) => (timer = setTimeout(() => resolve('still open after 5 s'), 5000))),
      ]);
      clearTimeout(timer);
      silent.destroy();
      expect(outcome).toBe('closed by the server');
    } finally {
      await srv.stop();
    }
  });
});
