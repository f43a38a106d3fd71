import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import { parseZooCfg, type TlsSettings } from '../../src/config';
import { keyMaterial, KeyStoreError, readKeyStore, trustAnchors } from '../../src/keystore';
import { rc2DecryptBlocks } from '../../src/keystore/rc2';
import { loadTlsMaterial } from '../../src/server/tls';
import { createClient } from '../../src/client';
import { startInProc } from '../harness/inproc';
import { javaKeyStore, makeJavaStores, opensslKeyStore, type JavaStores } from './keytool';
import { CLIENT_SUBJECT_RFC2253, makePki, type Pki } from './pki';

/**
 * Java's key and trust stores, as Java 17's keytool writes them in this test, are read natively:
 * JKS, PKCS12 with Java's default PBES2/AES and with the legacy SHA-1/3DES/RC2 schemes. A key store
 * yields exactly the key and chain it was made from, a trust store its keytool-imported CA; a wrong
 * password, a flipped byte, RC4, a second key or a key under another password are refused with
 * errors that say so, and OpenSSL's cert-only PKCS12 (which Java reads as empty) is refused with the
 * fix. RC2 is checked against RFC 2268's vectors. A server and client run TLS on these stores.
 */

let pki: Pki;
let server: JavaStores;
/** The client's key store in Java's legacy PKCS12 and as OpenSSL writes it (the trust stores are the server's: one CA). */
let client: { legacyP12: string; opensslP12: string };
beforeAll(async () => {
  pki = makePki();
  server = await makeJavaStores(pki, pki.server, 'server');
  client = { legacyP12: await javaKeyStore(pki, pki.client, 'client', 'legacyP12'), opensslP12: await opensslKeyStore(pki, pki.client, 'client') };
}, 120_000);
afterAll(() => pki.remove());

const pemKey = (file: string) => createPrivateKey(fs.readFileSync(file)).export({ type: 'pkcs8', format: 'pem' }).toString();
const subjects = (pem: string) => (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((c) => new X509Certificate(c).subject);
const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(KeyStoreError);
    return (err as Error).message;
  }
  throw new Error('accepted');
};

test('RC2 decrypts RFC 2268 section 5\'s test vectors', () => {
  const vectors: [number, string, string, string][] = [
    [63, '0000000000000000', '0000000000000000', 'ebb773f993278eff'],
    [64, 'ffffffffffffffff', 'ffffffffffffffff', '278b27e42e2f0d49'],
    [64, '3000000000000000', '1000000000000001', '30649edf9be7d2c2'],
    [64, '88', '0000000000000000', '61a8a244adacccf0'],
    [64, '88bca90e90875a', '0000000000000000', '6ccf4308974c267f'],
    [64, '88bca90e90875a7f0f79c384627bafb2', '0000000000000000', '1a807d272bbe5db1'],
    [128, '88bca90e90875a7f0f79c384627bafb2', '0000000000000000', '2269552ab0f85ca6'],
    [129, '88bca90e90875a7f0f79c384627bafb216f80a6f85920584c42fceb0be255daf1e', '0000000000000000', '5b78d3a43dfff1f1'],
  ];
  for (const [bits, key, plain, cipher] of vectors) {
    expect(rc2DecryptBlocks(Buffer.from(key, 'hex'), bits, Buffer.from(cipher, 'hex')).toString('hex')).toBe(plain);
  }
});

describe.each(['jks', 'p12', 'legacyP12', 'opensslP12'] as const)('key store %s', (kind) => {
  test('yields the key and the chain it was made from; the wrong password is refused as such', () => {
    const file = fs.readFileSync(server.keyStore[kind]);
    const m = keyMaterial(readKeyStore(file, server.password));
    expect(m.key).toBe(pemKey(pki.server.key));
    expect(subjects(m.cert)).toEqual(['CN=localhost', 'CN=zabkeeper test CA']);
    expect(refusal(() => readKeyStore(file, 'not-the-password'))).toMatch(/wrong password/);
  });
});

describe.each(['jks', 'p12', 'legacyP12'] as const)('trust store %s', (kind) => {
  test('trusts exactly the CA keytool imported; the wrong password is refused as such', () => {
    const file = fs.readFileSync(server.trustStore[kind]);
    expect(trustAnchors(readKeyStore(file, server.password)).map((p) => new X509Certificate(p).fingerprint256)).toEqual([new X509Certificate(fs.readFileSync(pki.ca)).fingerprint256]);
    expect(refusal(() => readKeyStore(file, 'not-the-password'))).toMatch(/wrong password/);
  });
});

describe('what cannot be used soundly is refused', () => {
  test('a flipped byte fails the integrity check (JKS digest, PKCS12 MAC)', () => {
    for (const f of [server.keyStore.jks, server.keyStore.p12, server.trustStore.legacyP12]) {
      const bytes = fs.readFileSync(f);
      bytes[bytes.length >> 1]! ^= 0x01;
      expect(refusal(() => readKeyStore(bytes, server.password))).toMatch(/integrity check failed|malformed|ASN\.1/);
    }
  });

  test('OpenSSL\'s cert-only PKCS12 holds nothing Java trusts: refused, saying how to fix it', () => {
    const store = readKeyStore(fs.readFileSync(server.trustStore.opensslP12), server.password);
    expect(refusal(() => trustAnchors(store))).toMatch(/holds no trusted certificate: .*keytool -importcert/);
  });

  test('RC4, a key under its own password, two keys: refused with the reason', async () => {
    const rc4 = `${pki.dir}/rc4.p12`;
    execFileSync('openssl', ['pkcs12', '-export', '-legacy', '-certpbe', 'PBE-SHA1-RC4-128', '-keypbe', 'PBE-SHA1-3DES', '-inkey', pki.server.key, '-in', pki.server.cert, '-out', rc4, '-passout', 'pass:pw123456']);
    expect(refusal(() => readKeyStore(fs.readFileSync(rc4), 'pw123456'))).toMatch(/pbeWithSHAAnd128BitRC4 is not supported \(RC4 is broken\); convert .*keytool -importkeystore/);
    const keyPass = `${pki.dir}/keypass.jks`;
    const two = `${pki.dir}/two.jks`;
    const imp = (dest: string, src: string, extra: string[]) =>
      execFileSync('keytool', ['-noprompt', '-importkeystore', '-srckeystore', src, '-srcstoretype', 'PKCS12', '-srcstorepass', server.password, '-destkeystore', dest, '-deststoretype', 'JKS', '-deststorepass', server.password, ...extra], { stdio: 'pipe' });
    imp(keyPass, server.keyStore.opensslP12, ['-destkeypass', 'another-password']);
    expect(refusal(() => readKeyStore(fs.readFileSync(keyPass), server.password))).toMatch(/cannot recover key "server" with the store password/);
    fs.copyFileSync(server.keyStore.jks, two);
    imp(two, client.opensslP12, []);
    expect(refusal(() => keyMaterial(readKeyStore(fs.readFileSync(two), server.password)))).toMatch(/holds 2 private keys \(server-jks, client\); zabkeeper needs a key store with exactly one/);
  }, 60_000);

  test('a PEM file named as a Java store, and a truncated store', () => {
    expect(refusal(() => readKeyStore(fs.readFileSync(pki.ca), 'x'))).toMatch(/PEM file: set the store type to PEM/);
    expect(refusal(() => readKeyStore(fs.readFileSync(server.keyStore.p12).subarray(0, 300), server.password))).toMatch(/runs past the end|truncated/);
  });
});

describe('the server and our client on keytool\'s stores', () => {
  function settings(lines: string): TlsSettings {
    const r = parseZooCfg(`dataDir=/unused\nclientPort=1\n${lines}`);
    const errors = r.issues.filter((i) => i.severity === 'error');
    if (errors.length > 0) throw new Error(errors.map((e) => e.message).join('\n'));
    return r.config.security.clientTls;
  }

  test('types from the extension or set explicitly (either Java type reads either format, as Java 9+ does); errors name key and file', () => {
    const pw = server.password;
    const m = loadTlsMaterial(settings(`ssl.keyStore.location=${server.keyStore.jks}\nssl.keyStore.password=${pw}\nssl.trustStore.location=${server.trustStore.legacyP12}\nssl.trustStore.password=${pw}\n`));
    expect(m.key).toBe(pemKey(pki.server.key));
    const swapped = loadTlsMaterial(settings(`ssl.keyStore.location=${server.keyStore.p12}\nssl.keyStore.type=JKS\nssl.keyStore.password=${pw}\n`));
    expect(swapped.key).toBe(m.key);
    expect(() => loadTlsMaterial(settings(`ssl.trustStore.location=${server.trustStore.jks}\n`))).toThrow(/^ssl\.trustStore\.location: .*trust\.jks \(JKS\): wrong password/);
  });

  test('TLS with a JKS key store and a PKCS12 trust store on the server, our client on legacy PKCS12 and JKS stores: x509 id', async () => {
    const pw = server.password;
    const r = parseZooCfg(`dataDir=/unused\nclientPort=1\nsecureClientPort=1\nsecureClientPortAddress=127.0.0.1\nssl.keyStore.location=${server.keyStore.jks}\nssl.keyStore.password=${pw}\nssl.trustStore.location=${server.trustStore.p12}\nssl.trustStore.password=${pw}\n`);
    const srv = await startInProc({ security: { ...r.config.security, secureClientPort: 0 } });
    try {
      const tls = loadTlsMaterial(settings(`ssl.keyStore.location=${client.legacyP12}\nssl.keyStore.password=${pw}\nssl.trustStore.location=${server.trustStore.jks}\nssl.trustStore.password=${pw}\n`));
      const zk = await createClient(`127.0.0.1:${srv.server.securePort}`, { tls: { ca: tls.ca, key: tls.key, cert: tls.cert } });
      expect((await zk.whoAmI()).map((i) => `${i.authScheme}:${i.user}`).sort()).toEqual(['ip:127.0.0.1', `x509:${CLIENT_SUBJECT_RFC2253}`]);
      await zk.close();
    } finally {
      await srv.stop();
    }
  });
});
