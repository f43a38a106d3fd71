import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Identity, Pki } from './pki';

/**
 * Java key and trust stores written by Java 17's keytool in the test (never committed): an
 * identity of a Pki as a key store, JKS or PKCS12 with Java's default algorithms (PBES2 with
 * AES-256, HmacPBESHA256) or the legacy ones (RC2-40 certificates, 3DES keys, SHA-1 MAC), and the
 * CA as a trust store in the same formats; plus OpenSSL's cert-only PKCS12, which Java sees as empty.
 */
export type JavaFormat = 'jks' | 'p12' | 'legacyP12';

export interface JavaStores {
  password: string;
  keyStore: Record<JavaFormat | 'opensslP12', string>;
  trustStore: Record<JavaFormat | 'opensslP12', string>;
}

export const STORE_PASSWORD = 'storepass1';
const run = promisify(execFile);
/** keystore.pkcs12.* properties that make keytool write what Java 8 and 11 wrote by default. */
const LEGACY = ['-J-Dkeystore.pkcs12.certProtectionAlgorithm=PBEWithSHA1AndRC2_40', '-J-Dkeystore.pkcs12.keyProtectionAlgorithm=PBEWithSHA1AndDESede', '-J-Dkeystore.pkcs12.macAlgorithm=HmacPBESHA1'];
const EXT: Record<JavaFormat, string> = { jks: 'jks', p12: 'p12', legacyP12: 'legacy.p12' };

async function keytool(args: string[]): Promise<void> {
  try {
    await run('keytool', ['-noprompt', ...args], { timeout: 60_000 });
  } catch (err) {
    throw new Error(`keytool ${args.join(' ')} failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`);
  }
}

const typeOf = (f: JavaFormat) => (f === 'jks' ? 'JKS' : 'PKCS12');
const legacy = (f: JavaFormat, keys: boolean) => (f === 'legacyP12' ? LEGACY.filter((a) => keys || !a.includes('keyProtection')) : []);

/** `id`'s key and chain (with the CA) as OpenSSL writes a PKCS12: keytool's import source. */
export async function opensslKeyStore(pki: Pki, id: Identity, name: string, password = STORE_PASSWORD): Promise<string> {
  const out = path.join(pki.dir, `${name}-key-openssl.p12`);
  await run('openssl', ['pkcs12', '-export', '-inkey', id.key, '-in', id.cert, '-certfile', pki.ca, '-name', name, '-out', out, '-passout', `pass:${password}`]);
  return out;
}

/** `id` as a key store in `format`, written by keytool -importkeystore. */
export async function javaKeyStore(pki: Pki, id: Identity, name: string, format: JavaFormat, password = STORE_PASSWORD): Promise<string> {
  const src = await opensslKeyStore(pki, id, `${name}-${format}`, password);
  const dest = path.join(pki.dir, `${name}-key.${EXT[format]}`);
  await keytool([...legacy(format, true), '-importkeystore', '-srckeystore', src, '-srcstoretype', 'PKCS12', '-srcstorepass', password, '-destkeystore', dest, '-deststoretype', typeOf(format), '-deststorepass', password]);
  return dest;
}

/** The CA as a trust store in `format`, written by keytool -importcert. */
export async function javaTrustStore(pki: Pki, name: string, format: JavaFormat, password = STORE_PASSWORD): Promise<string> {
  const dest = path.join(pki.dir, `${name}-trust.${EXT[format]}`);
  await keytool([...legacy(format, false), '-importcert', '-alias', 'ca', '-file', pki.ca, '-keystore', dest, '-storetype', typeOf(format), '-storepass', password]);
  return dest;
}

/** Every format of both stores for one identity (two JVMs at a time: the machine has two cores). */
export async function makeJavaStores(pki: Pki, id: Identity, name: string, password = STORE_PASSWORD): Promise<JavaStores> {
  const [jks, p12] = await Promise.all([javaKeyStore(pki, id, name, 'jks', password), javaKeyStore(pki, id, name, 'p12', password)]);
  const [legacyP12, trustJks] = await Promise.all([javaKeyStore(pki, id, name, 'legacyP12', password), javaTrustStore(pki, name, 'jks', password)]);
  const [trustP12, trustLegacy] = await Promise.all([javaTrustStore(pki, name, 'p12', password), javaTrustStore(pki, name, 'legacyP12', password)]);
  const trustOpenssl = path.join(pki.dir, `${name}-trust-openssl.p12`);
  await run('openssl', ['pkcs12', '-export', '-nokeys', '-in', pki.ca, '-out', trustOpenssl, '-passout', `pass:${password}`]);
  return {
    password,
    keyStore: { jks, p12, legacyP12, opensslP12: await opensslKeyStore(pki, id, name, password) },
    trustStore: { jks: trustJks, p12: trustP12, legacyP12: trustLegacy, opensslP12: trustOpenssl },
  };
}
