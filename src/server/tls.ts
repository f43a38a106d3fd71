import fs from 'node:fs';
import type net from 'node:net';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import type { StoreSpec, TlsSettings } from '../config';
import { DEFAULT_TLS12_SUITES, TLS12_SUITES, TLS13_SUITES } from '../config/security';
import { KeyStoreError, keyMaterial, readKeyStore, trustAnchors } from '../keystore';

/**
 * The TLS shell shared by the client port and the peer port: turns `ssl.*` / `ssl.quorum.*`
 * settings into Node TLS options (reading the key and trust stores), checks a peer certificate
 * after the handshake, and reloads the stores when their files change. A store that cannot be
 * read is a TlsConfigError naming the key, so the server refuses to start.
 */

export class TlsConfigError extends Error {
  constructor(readonly key: string, message: string) {
    super(`${key}: ${message}`);
    this.name = 'TlsConfigError';
  }
}

/** Key material and trust anchors, loaded from the stores. */
export interface TlsMaterial {
  key?: string | Buffer;
  cert?: string | Buffer;
  /** Decrypts an encrypted PEM key (Java stores are decrypted when read). */
  passphrase?: string;
  /** undefined: Node's bundled CA list (ZooKeeper uses the JDK's when no trust store is set). */
  ca?: string;
}

function readFile(key: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new TlsConfigError(key, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function passwordOf(spec: StoreSpec): string {
  if (!spec.passwordPath) return spec.password;
  // ZooKeeper's SecretUtils.readSecret: the file's content, trailing line break dropped.
  return readFile(spec.key.replace(/location$/, 'passwordPath'), spec.passwordPath).toString('utf8').replace(/\r?\n$/, '');
}

const PEM_KEY = /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;
const PEM_CERT = /-----BEGIN CERTIFICATE-----/;

/** A PKCS12 or JKS store, read with its password (src/keystore); errors name the key and file. */
function javaStore<T>(spec: StoreSpec, bytes: Buffer, take: (store: ReturnType<typeof readKeyStore>) => T): T {
  try {
    return take(readKeyStore(bytes, passwordOf(spec)));
  } catch (err) {
    if (!(err instanceof KeyStoreError)) throw err;
    throw new TlsConfigError(spec.key, `${spec.location} (${spec.type}): ${err.message}`);
  }
}

/** This side's key and certificate chain: a PEM file (key + chain, the password decrypts the key) or a Java store. */
function loadKeyStore(ks: StoreSpec): Pick<TlsMaterial, 'key' | 'cert' | 'passphrase'> {
  const bytes = readFile(ks.key, ks.location);
  let out: Pick<TlsMaterial, 'key' | 'cert' | 'passphrase'>;
  if (ks.type !== 'PEM') out = javaStore(ks, bytes, keyMaterial);
  else {
    const text = bytes.toString('utf8');
    if (!PEM_KEY.test(text)) throw new TlsConfigError(ks.key, `${ks.location} holds no PEM private key (a PEM key store is one file with the key and its certificate chain)`);
    if (!PEM_CERT.test(text)) throw new TlsConfigError(ks.key, `${ks.location} holds no PEM certificate (a PEM key store is one file with the key and its certificate chain)`);
    const password = passwordOf(ks);
    out = { key: text, cert: text, ...(password !== '' ? { passphrase: password } : {}) };
  }
  // Build a context now so a wrong password or a key that does not match the certificate stops the start.
  try {
    tls.createSecureContext(out);
  } catch (err) {
    throw new TlsConfigError(ks.key, `cannot use ${ks.location}: ${(err as Error).message}`);
  }
  return out;
}

/** The CA certificates peers must chain to, as PEM: a PEM file's certificates or a Java store's trusted entries. */
function loadTrustStore(ts: StoreSpec): string {
  const bytes = readFile(ts.key, ts.location);
  if (ts.type !== 'PEM') return javaStore(ts, bytes, trustAnchors).join('');
  const certs = bytes.toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (certs.length === 0) throw new TlsConfigError(ts.key, `${ts.location} holds no PEM certificates`);
  for (const c of certs) {
    try {
      new X509Certificate(c);
    } catch (err) {
      throw new TlsConfigError(ts.key, `${ts.location}: bad certificate: ${(err as Error).message}`);
    }
  }
  return certs.join('\n');
}

/** Reads the key store and trust store named by the settings. */
export function loadTlsMaterial(s: TlsSettings): TlsMaterial {
  return { ...(s.keyStore ? loadKeyStore(s.keyStore) : {}), ...(s.trustStore ? { ca: loadTrustStore(s.trustStore) } : {}) };
}

/** Protocol range and suites, as Node options. */
export function protocolOptions(s: TlsSettings): Pick<tls.SecureContextOptions, 'minVersion' | 'maxVersion' | 'ciphers'> {
  const enabled = s.enabledProtocols;
  const minVersion = enabled.includes('TLSv1.2') ? 'TLSv1.2' : 'TLSv1.3';
  const maxVersion = enabled.includes('TLSv1.3') ? 'TLSv1.3' : 'TLSv1.2';
  const tls12 = s.ciphersuites?.tls12 ?? DEFAULT_TLS12_SUITES.map((n) => TLS12_SUITES[n]!);
  const tls13 = s.ciphersuites?.tls13 ?? (s.ciphersuites ? [] : [...TLS13_SUITES]);
  // Node takes TLS 1.3 suites (TLS_*) and OpenSSL TLS 1.2 specs in one list.
  return { minVersion, maxVersion, ciphers: [...tls13, ...tls12].join(':') };
}

/** Server-side options for a listener (client port or peer port). */
export function serverTlsOptions(s: TlsSettings, material: TlsMaterial): tls.TlsOptions {
  return {
    ...material,
    ...protocolOptions(s),
    requestCert: s.clientAuth !== 'none',
    // `want`: a client may come without a certificate, but one it presents must be valid (checked
    // in acceptPeer, as Java's SSLEngine with wantClientAuth fails the handshake).
    rejectUnauthorized: s.clientAuth === 'need',
    handshakeTimeout: s.handshakeTimeoutMs,
  };
}

/**
 * After a server-side handshake: undefined if the peer may stay, else why it must be dropped.
 * `want` lets a peer without a certificate in, never one with an untrusted certificate;
 * clientHostnameVerification checks the peer's address is named by its certificate.
 */
export function acceptPeer(socket: tls.TLSSocket, s: TlsSettings): string | undefined {
  const cert = socket.getPeerX509Certificate();
  if (!cert) return s.clientAuth === 'need' ? 'no client certificate' : undefined;
  if (!socket.authorized) return `client certificate not trusted: ${String(socket.authorizationError)}`;
  if (s.clientHostnameVerification) {
    const ip = (socket.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.)/, '');
    if (!cert.checkIP(ip) && !cert.checkHost(ip)) return `client certificate does not name the client's address ${ip}`;
  }
  return undefined;
}

/** The first byte of a TLS connection: a handshake record (content type 22). No plaintext ZooKeeper frame or four-letter word starts with it. */
export const TLS_HANDSHAKE_RECORD = 0x16;

/**
 * Port unification (ZooKeeper's client.portUnification and portUnification): waits for the first
 * byte a peer sends and leaves it unread, paused, for whoever takes the socket next (a TLS wrapper
 * reads what is buffered; a plaintext reader must resume()). Rejects if nothing arrives in time.
 */
export function firstByte(socket: net.Socket, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | undefined, byte?: number): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve(byte!);
    };
    const onData = (chunk: Buffer): void => {
      socket.pause();
      socket.unshift(chunk);
      done(undefined, chunk[0]!);
    };
    const onClose = (): void => done(new Error('closed before sending anything'));
    const timer = setTimeout(() => done(new Error(`sent nothing within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/**
 * Watches the store files and calls `onChange` with freshly loaded material once they settle
 * (ZooKeeper's client.certReload / sslQuorumReloadCertFiles). A store that fails to load is
 * logged and the old material stays in use. Returns a function that stops watching.
 */
export function watchStores(s: TlsSettings, logger: Logger, onChange: (m: TlsMaterial) => void): () => void {
  const files = [s.keyStore?.location, s.keyStore?.passwordPath, s.trustStore?.location, s.trustStore?.passwordPath].filter((f): f is string => !!f);
  let timer: NodeJS.Timeout | undefined;
  const reload = (): void => {
    timer = undefined;
    try {
      onChange(loadTlsMaterial(s));
      logger.info({ files }, `reloaded ${s.prefix}* key and trust stores`);
    } catch (err) {
      logger.error({ err: (err as Error).message }, `could not reload ${s.prefix}* stores; keeping the previous ones`);
    }
  };
  for (const f of files) {
    // watchFile polls, which also sees a file replaced by rename (how cert managers rotate).
    fs.watchFile(f, { interval: 500, persistent: false }, (cur, prev) => {
      if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size && cur.ino === prev.ino) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(reload, 200);
      timer.unref();
    });
  }
  return () => {
    if (timer) clearTimeout(timer);
    for (const f of files) fs.unwatchFile(f);
  };
}
