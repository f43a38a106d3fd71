/**
 * Every security-related setting ZooKeeper reads, from zoo.cfg or as a Java system property, and
 * what zabkeeper does with it. Fail closed: a key we do not implement, or a value asking for
 * something we do not do (JKS stores, CRL checks, Kerberos, a custom auth provider class...), is an
 * error naming the key, so the server refuses to start instead of running less protected than its
 * operator believes. Pure: values in, a typed SecurityConfig and issues out; files named here
 * (key stores, the JAAS file) are read when the server starts (src/server/security.ts).
 *
 * ZooKeeper turns every zoo.cfg key it does not parse itself into the system property
 * `zookeeper.<key>`, and operators also pass `-Dzookeeper.<key>=...` in SERVER_JVMFLAGS/JVMFLAGS.
 * Both reach this module as `<key>`; a zoo.cfg line wins over a -D flag, as in ZooKeeper.
 */

/** One raw setting and where it came from (for messages). */
export interface RawSetting {
  value: string;
  /** zoo.cfg line, or 0 for a JVM flag. */
  line: number;
  /** 'zoo.cfg' or the environment variable holding the -D flag. */
  origin: string;
  /** For a JVM flag: the system property as written (`zookeeper.ssl.protocol`). */
  property?: string;
}

export type ClientAuth = 'none' | 'want' | 'need';
export type StoreType = 'PEM' | 'PKCS12' | 'JKS';

export interface StoreSpec {
  location: string;
  /** Password given inline or read from `passwordPath` at start; '' = none. */
  password: string;
  passwordPath?: string;
  type: StoreType;
  /** The key that named the location (for error messages). */
  key: string;
}

/** The `ssl.*` (client port) or `ssl.quorum.*` (peer port) family. */
export interface TlsSettings {
  prefix: 'ssl.' | 'ssl.quorum.';
  keyStore?: StoreSpec;
  trustStore?: StoreSpec;
  /** ZooKeeper's default is need. */
  clientAuth: ClientAuth;
  /** ssl.protocol: the newest protocol offered (3.8 default TLSv1.2). */
  protocol: 'TLSv1.2' | 'TLSv1.3';
  /** ssl.enabledProtocols; default: just `protocol`. */
  enabledProtocols: ('TLSv1.2' | 'TLSv1.3')[];
  /** OpenSSL names for TLS 1.2 suites, IANA names for TLS 1.3 suites; undefined = ZooKeeper 3.8's default list. */
  ciphersuites?: { tls12: string[]; tls13: string[] };
  /** Verify the peer's host name against its certificate (clients verify servers; members verify each other). */
  hostnameVerification: boolean;
  /** Also verify a connecting client's address against its certificate (3.9.4 key; quorum: yes, client port: no). */
  clientHostnameVerification: boolean;
  handshakeTimeoutMs: number;
}

export type SaslMechanismModule = 'digest';

export interface SecurityConfig {
  secureClientPort?: number;
  secureClientPortAddress?: string;
  /** client.portUnification: the plaintext clientPort also accepts TLS. */
  clientPortUnification: boolean;
  clientTls: TlsSettings;
  /** client.certReload: reload the client-port key/trust stores when their files change. */
  clientCertReload: boolean;
  quorumTls: TlsSettings;
  sslQuorum: boolean;
  /** portUnification: the peer port accepts TLS and plaintext (rolling upgrade to sslQuorum). */
  quorumPortUnification: boolean;
  sslQuorumReloadCertFiles: boolean;
  /** Schemes registered by authProvider.N (besides ip and digest, always present). */
  authProviders: ReadonlySet<'sasl' | 'x509'>;
  digestEnabled: boolean;
  /** Node crypto hash name for DigestAuthenticationProvider.digestAlg. */
  digestAlg: string;
  x509SuperUser?: string;
  /** zookeeper.superUser[.N]: SASL identities that also get `super`. */
  saslSuperUsers: string[];
  /** SASLAuthenticationProvider.superPassword: password of the DIGEST-MD5 user `super`. */
  saslSuperPassword?: string;
  /** enforce.auth.*: requests from connections without one of these schemes get -124 and are closed. */
  enforceAuthSchemes?: string[];
  /** java.security.auth.login.config: the JAAS file with the SASL sections. */
  jaasFile?: string;
  /** sasl.serverconfig: the JAAS section of the client-port SASL server. */
  saslServerSection: string;
  /** sasl.serverconfig was set: its section must exist (the default Server may be absent). */
  saslServerSectionSet: boolean;
  quorumAuth: {
    enableSasl: boolean;
    learnerRequireSasl: boolean;
    serverRequireSasl: boolean;
    learnerLoginContext: string;
    serverLoginContext: string;
  };
}

export interface SecurityIssue {
  line: number;
  key: string;
  severity: 'error' | 'warning';
  message: string;
}

/** The JDK provider classes ZooKeeper ships, by the ACL scheme each registers. */
const AUTH_PROVIDER_CLASSES: Readonly<Record<string, 'sasl' | 'x509' | 'digest' | 'ip'>> = {
  'org.apache.zookeeper.server.auth.SASLAuthenticationProvider': 'sasl',
  'org.apache.zookeeper.server.auth.X509AuthenticationProvider': 'x509',
  'org.apache.zookeeper.server.auth.DigestAuthenticationProvider': 'digest',
  'org.apache.zookeeper.server.auth.IPAuthenticationProvider': 'ip',
};

/** DigestAuthenticationProvider.digestAlg (a Java MessageDigest name) -> node:crypto hash. */
const DIGEST_ALGS: Readonly<Record<string, string>> = {
  SHA1: 'sha1', 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512',
  'SHA3-256': 'sha3-256', 'SHA3-384': 'sha3-384', 'SHA3-512': 'sha3-512',
};

const KERBEROS = 'Kerberos (GSSAPI) is not supported by zabkeeper; use SASL DIGEST-MD5 or x509 client certificates';

// ------------------------------------------------------------------ the key table

interface Ctx {
  raw: ReadonlyMap<string, RawSetting>;
  issues: SecurityIssue[];
}

type KeyRule =
  /** Implemented: the value is read by `resolve` below. `check` may refuse particular values. */
  | { kind: 'supported'; doc: string; check?: (value: string) => string | undefined }
  /** Not implemented: any value refuses the start (unless it is the harmless default). */
  | { kind: 'refused'; doc: string; why: string; allow?: (value: string) => boolean };

const isFalse = (v: string): boolean => v.trim().toLowerCase() === 'false';
const notTrue = (v: string): boolean => v.trim().toLowerCase() !== 'true';

/** Keys of the `ssl.` and `ssl.quorum.` families, by suffix. */
const TLS_SUFFIXES: Readonly<Record<string, KeyRule>> = {
  'keyStore.location': { kind: 'supported', doc: 'this server\'s key and certificate chain (PEM: one file with the key and chain; PKCS12; JKS)' },
  'keyStore.password': { kind: 'supported', doc: 'decrypts the key store / PEM key' },
  'keyStore.passwordPath': { kind: 'supported', doc: 'file holding the key store password (wins over keyStore.password)' },
  'keyStore.type': { kind: 'supported', doc: 'PEM, PKCS12 or JKS (default: from the extension .pem/.p12/.jks); BCFKS is refused', check: storeTypeProblem },
  'trustStore.location': { kind: 'supported', doc: 'CA certificates that peers\' certificates must chain to (PEM, PKCS12 or JKS); unset = the system CAs' },
  'trustStore.password': { kind: 'supported', doc: 'trust store password' },
  'trustStore.passwordPath': { kind: 'supported', doc: 'file holding the trust store password' },
  'trustStore.type': { kind: 'supported', doc: 'PEM, PKCS12 or JKS (default: from the extension)', check: storeTypeProblem },
  clientAuth: {
    kind: 'supported',
    doc: 'none, want or need (default need): whether a connecting peer must present a certificate',
    check: (v) => (['none', 'want', 'need', ''].includes(v.trim().toLowerCase()) ? undefined : `'${v}' is not none, want or need`),
  },
  protocol: { kind: 'supported', doc: 'TLSv1.2 (default, as ZooKeeper 3.8) or TLSv1.3: the newest protocol offered', check: protocolProblem },
  enabledProtocols: { kind: 'supported', doc: 'comma list of TLSv1.2/TLSv1.3 (default: the protocol)', check: (v) => listProblem(v, protocolProblem) },
  ciphersuites: { kind: 'supported', doc: 'comma list of IANA suite names (default: ZooKeeper 3.8\'s ECDHE AES-GCM list, plus the TLS 1.3 suites)', check: (v) => listProblem(v, cipherProblem) },
  hostnameVerification: { kind: 'supported', doc: 'true (default): clients and members check the peer\'s certificate names its address', check: boolProblem },
  clientHostnameVerification: { kind: 'supported', doc: 'also check a connecting peer\'s address against its certificate (default: false on the client port, true on the quorum port)', check: boolProblem },
  handshakeDetectionTimeoutMillis: { kind: 'supported', doc: 'ms a TLS handshake may take (default 5000)', check: (v) => (/^\d+$/.test(v.trim()) && Number(v) > 0 ? undefined : `'${v}' is not a positive number of ms`) },
  sslProvider: { kind: 'supported', doc: 'JDK or OPENSSL: accepted; zabkeeper always uses Node\'s OpenSSL', check: (v) => (['JDK', 'OPENSSL'].includes(v.trim().toUpperCase()) ? undefined : `'${v}' is not JDK or OPENSSL`) },
  authProvider: { kind: 'supported', doc: 'the scheme client certificates authenticate as: only x509', check: (v) => (v.trim() === 'x509' ? undefined : `only the x509 provider is supported, not '${v}'`) },
  crl: { kind: 'refused', doc: 'certificate revocation lists', why: 'CRL checking is not implemented', allow: isFalse },
  ocsp: { kind: 'refused', doc: 'OCSP revocation checks', why: 'OCSP is not implemented', allow: isFalse },
  'context.supplier.class': { kind: 'refused', doc: 'a Java class supplying the SSLContext', why: 'Java classes cannot be loaded' },
  allowReverseDnsLookup: { kind: 'refused', doc: 'reverse DNS in host name verification', why: 'host names are never verified by reverse DNS', allow: isFalse },
};

/** Exact keys. */
const KEYS: Readonly<Record<string, KeyRule>> = {
  secureClientPort: { kind: 'supported', doc: 'TLS client port; with no clientPort no plaintext port is opened' },
  secureClientPortAddress: { kind: 'supported', doc: 'address of the TLS client port (default all interfaces)' },
  'client.portUnification': { kind: 'supported', doc: 'the plaintext clientPort also accepts TLS clients (told apart by their first byte), with the ssl.* settings', check: boolProblem },
  'client.certReload': { kind: 'supported', doc: 'reload the ssl.* key/trust stores when their files change', check: boolProblem },
  serverCnxnFactory: { kind: 'supported', doc: 'accepted (NIO or Netty): zabkeeper has one connection layer, which does TLS' },
  sslQuorum: { kind: 'supported', doc: 'TLS with mutual authentication between ensemble members (ssl.quorum.*)', check: boolProblem },
  portUnification: { kind: 'supported', doc: 'the peer port accepts TLS and plaintext, for a rolling switch to sslQuorum', check: boolProblem },
  sslQuorumReloadCertFiles: { kind: 'supported', doc: 'reload the ssl.quorum.* stores when their files change', check: boolProblem },
  'DigestAuthenticationProvider.enabled': { kind: 'supported', doc: 'false: the digest scheme is not available (addauth digest fails)', check: boolProblem },
  'DigestAuthenticationProvider.superDigest': { kind: 'supported', doc: '`super:<base64 digest>` grants every permission' },
  'DigestAuthenticationProvider.digestAlg': {
    kind: 'supported',
    doc: 'hash of digest ids: SHA1 (default), SHA-256, SHA3-256, ...',
    check: (v) => (DIGEST_ALGS[v.trim().toUpperCase()] ? undefined : `unsupported digest algorithm '${v}' (${Object.keys(DIGEST_ALGS).join(', ')})`),
  },
  'X509AuthenticationProvider.superUser': { kind: 'supported', doc: 'a certificate subject (RFC 2253) that gets `super`' },
  superUser: { kind: 'supported', doc: 'a SASL identity that gets `super` (also superUser.N)' },
  'SASLAuthenticationProvider.superPassword': { kind: 'supported', doc: 'password of the DIGEST-MD5 user `super` (overrides the JAAS file)' },
  'enforce.auth.enabled': { kind: 'supported', doc: 'requests from unauthenticated connections get -124 and the connection closes', check: boolProblem },
  'enforce.auth.schemes': { kind: 'supported', doc: 'schemes that count as authenticated (sasl, x509, digest)' },
  sessionRequireClientSASLAuth: { kind: 'supported', doc: 'true = enforce.auth with the sasl scheme', check: boolProblem },
  'java.security.auth.login.config': { kind: 'supported', doc: 'the JAAS file (DigestLoginModule sections Server, QuorumServer, QuorumLearner)' },
  'sasl.serverconfig': { kind: 'supported', doc: 'JAAS section of the client-port SASL server (default Server)' },
  'quorum.auth.enableSasl': { kind: 'supported', doc: 'members authenticate each other on the peer port (DIGEST-MD5 credentials from JAAS)', check: boolProblem },
  'quorum.auth.learnerRequireSasl': { kind: 'supported', doc: 'a learner only joins a leader that proves the shared credentials', check: boolProblem },
  'quorum.auth.serverRequireSasl': { kind: 'supported', doc: 'a member only accepts peers that prove the shared credentials', check: boolProblem },
  'quorum.auth.learner.saslLoginContext': { kind: 'supported', doc: 'JAAS section with this member\'s username/password (default QuorumLearner)' },
  'quorum.auth.server.saslLoginContext': { kind: 'supported', doc: 'JAAS section with the accepted user_<name> passwords (default QuorumServer)' },
  'quorum.cnxn.threads.size': { kind: 'supported', doc: 'accepted; the handshake runs on the event loop' },
  'quorum.auth.kerberos.servicePrincipal': { kind: 'refused', doc: 'Kerberos principal for quorum SASL', why: KERBEROS },
  'kerberos.removeHostFromPrincipal': { kind: 'refused', doc: 'Kerberos principal shortening', why: KERBEROS },
  'kerberos.removeRealmFromPrincipal': { kind: 'refused', doc: 'Kerberos principal shortening', why: KERBEROS },
  'kerberos.canonicalizeHostNames': { kind: 'refused', doc: 'Kerberos host canonicalisation', why: KERBEROS },
  'security.auth_to_local': { kind: 'refused', doc: 'Kerberos name mapping rules', why: KERBEROS },
  letAnySaslUserDoX: { kind: 'refused', doc: 'lets every SASL user act as one ACL id', why: 'it would grant access no ACL names' },
  allowSaslFailedClients: { kind: 'refused', doc: 'keep connections whose SASL login failed', why: 'a failed login always closes the connection', allow: isFalse },
  ensembleAuthName: { kind: 'refused', doc: 'EnsembleAuthenticationProvider', why: 'the ensemble auth provider is not implemented' },
  skipACL: { kind: 'refused', doc: 'skip every ACL check', why: 'zabkeeper always checks ACLs', allow: (v) => v.trim().toLowerCase() !== 'yes' },
  'fips-mode': { kind: 'refused', doc: 'FIPS-only crypto', why: 'zabkeeper cannot promise FIPS-validated crypto', allow: notTrue },
  'admin.forceHttps': { kind: 'refused', doc: 'AdminServer over HTTPS only', why: 'the AdminServer has no HTTPS', allow: notTrue },
  'admin.portUnification': { kind: 'refused', doc: 'AdminServer HTTP and HTTPS on one port', why: 'the AdminServer has no HTTPS', allow: notTrue },
  'admin.needClientAuth': { kind: 'refused', doc: 'AdminServer client certificates', why: 'the AdminServer has no HTTPS', allow: notTrue },
  'IPAuthenticationProvider.usexforwardedfor': { kind: 'refused', doc: 'trust X-Forwarded-For on the AdminServer', why: 'forwarded addresses are never trusted', allow: notTrue },
};

/**
 * JVM system properties outside `zookeeper.*` that change security. JSSE's defaults would be
 * used by ZooKeeper where ssl.trustStore is unset; we never read them, so we refuse them.
 */
const JVM_ONLY: Readonly<Record<string, KeyRule>> = {
  'java.security.krb5.conf': { kind: 'refused', doc: 'Kerberos configuration', why: KERBEROS },
  'java.security.krb5.realm': { kind: 'refused', doc: 'Kerberos realm', why: KERBEROS },
  'java.security.krb5.kdc': { kind: 'refused', doc: 'Kerberos KDC', why: KERBEROS },
  'javax.security.auth.useSubjectCredsOnly': { kind: 'refused', doc: 'Kerberos credentials', why: KERBEROS },
  'javax.net.ssl.keyStore': { kind: 'refused', doc: 'JSSE default key store', why: 'set ssl.keyStore.location instead' },
  'javax.net.ssl.trustStore': { kind: 'refused', doc: 'JSSE default trust store', why: 'set ssl.trustStore.location instead' },
};

/** Looks a key up: exact, `ssl.`/`ssl.quorum.` family, `authProvider.*`, `superUser.*`. */
export function ruleFor(key: string): KeyRule | undefined {
  if (KEYS[key]) return KEYS[key];
  if (JVM_ONLY[key]) return JVM_ONLY[key];
  if (key.startsWith('ssl.quorum.')) return TLS_SUFFIXES[key.slice('ssl.quorum.'.length)] ?? unknownSsl;
  if (key.startsWith('ssl.')) return TLS_SUFFIXES[key.slice('ssl.'.length)] ?? unknownSsl;
  if (key.startsWith('authProvider.')) return authProviderRule;
  if (key.startsWith('superUser.')) return KEYS.superUser;
  if (key.startsWith('kerberos.') || key.startsWith('sun.security.krb5.')) return { kind: 'refused', doc: 'Kerberos', why: KERBEROS };
  if (key.startsWith('quorum.auth.')) return { kind: 'refused', doc: 'quorum authentication', why: 'unknown quorum.auth key' };
  return undefined;
}

const unknownSsl: KeyRule = { kind: 'refused', doc: 'TLS', why: 'not a TLS setting zabkeeper knows, so it cannot be honoured' };

const authProviderRule: KeyRule = {
  kind: 'supported',
  doc: 'authProvider.N=<class>: SASLAuthenticationProvider (sasl) or X509AuthenticationProvider (x509); digest and ip are always on',
  check: (v) => (AUTH_PROVIDER_CLASSES[v.trim()] ? undefined : `cannot load the authentication provider class '${v.trim()}': only ZooKeeper's own SASL, X509, Digest and IP providers are built in`),
};

/** Every documented key, for README and its test. */
export function documentedKeys(): { key: string; supported: boolean; doc: string }[] {
  const out: { key: string; supported: boolean; doc: string }[] = [];
  for (const [k, r] of Object.entries(KEYS)) out.push({ key: k, supported: r.kind === 'supported', doc: r.kind === 'supported' ? r.doc : `${r.doc}: refused (${r.why})` });
  for (const [suffix, r] of Object.entries(TLS_SUFFIXES)) out.push({ key: `ssl.${suffix}`, supported: r.kind === 'supported', doc: r.doc });
  out.push({ key: 'authProvider.N', supported: true, doc: authProviderRule.doc });
  return out;
}

function boolProblem(v: string): string | undefined {
  return ['true', 'false'].includes(v.trim().toLowerCase()) ? undefined : `'${v}' is not true or false`;
}

function storeTypeProblem(v: string): string | undefined {
  const t = v.trim().toUpperCase();
  if (t === '' || t === 'PEM' || t === 'PKCS12' || t === 'JKS') return undefined;
  if (t === 'BCFKS') return 'BCFKS key stores are not supported; convert with `keytool -importkeystore -srcstoretype BCFKS -srcprovidername BCFIPS -srckeystore store.bcfks -destkeystore store.p12 -deststoretype PKCS12` and use PKCS12 (or PEM, JKS)';
  return `unknown key store type '${v}' (PEM, PKCS12 or JKS)`;
}

const PROTOCOLS = new Set(['TLSv1.2', 'TLSv1.3']);
function protocolProblem(v: string): string | undefined {
  const p = v.trim();
  if (PROTOCOLS.has(p)) return undefined;
  if (p === 'TLS') return undefined;
  return `unsupported protocol '${p}' (TLSv1.2 or TLSv1.3; older protocols are insecure)`;
}

function listProblem(v: string, each: (item: string) => string | undefined): string | undefined {
  const items = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) return 'empty list';
  for (const item of items) {
    const p = each(item);
    if (p) return p;
  }
  return undefined;
}

/**
 * IANA (Java) TLS 1.2 suite names -> OpenSSL names, for the suites that are safe to offer (ECDHE
 * forward secrecy; AEAD or SHA-2 CBC). TLS 1.3 suites have the same names in both worlds.
 */
export const TLS12_SUITES: Readonly<Record<string, string>> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384: 'ECDHE-ECDSA-AES256-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384: 'ECDHE-RSA-AES256-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
};
export const TLS13_SUITES: readonly string[] = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

/** ZooKeeper 3.8's default suites on Java 9+ (X509Util.getDefaultCipherSuitesForJavaVersion). */
export const DEFAULT_TLS12_SUITES: readonly string[] = [
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
];

function cipherProblem(name: string): string | undefined {
  if (TLS12_SUITES[name] || TLS13_SUITES.includes(name)) return undefined;
  return `cipher suite '${name}' is not supported (use IANA names such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 or TLS_AES_128_GCM_SHA256)`;
}

// ------------------------------------------------------------------ resolving

function get(ctx: Ctx, key: string): string | undefined {
  return ctx.raw.get(key)?.value.trim();
}

function bool(ctx: Ctx, key: string, dflt: boolean): boolean {
  const v = get(ctx, key);
  return v === undefined ? dflt : v.toLowerCase() === 'true';
}

function error(ctx: Ctx, key: string, message: string): void {
  const s = ctx.raw.get(key);
  ctx.issues.push({ line: s?.line ?? 0, key, severity: 'error', message: s?.property ? `${message} (from -D${s.property} in ${s.origin})` : message });
}

function storeSpec(ctx: Ctx, prefix: string, which: 'keyStore' | 'trustStore'): StoreSpec | undefined {
  const key = `${prefix}${which}.location`;
  const location = get(ctx, key);
  if (location === undefined || location === '') return undefined;
  const typeText = get(ctx, `${prefix}${which}.type`) ?? '';
  let type: StoreType | undefined;
  if (typeText !== '') type = typeText.toUpperCase() as StoreType;
  else {
    const ext = location.slice(location.lastIndexOf('.')).toLowerCase();
    if (ext === '.pem') type = 'PEM';
    else if (ext === '.p12') type = 'PKCS12';
    else if (ext === '.jks') type = 'JKS';
    else if (ext === '.bcfks') {
      error(ctx, key, `${key}: ${location} is a BCFKS store (by its extension): ${storeTypeProblem('BCFKS')}`);
      return undefined;
    } else {
      error(ctx, key, `${key}: cannot tell the type of ${location} from its name: set ${prefix}${which}.type to PEM, PKCS12 or JKS`);
      return undefined;
    }
  }
  return { location, password: get(ctx, `${prefix}${which}.password`) ?? '', passwordPath: get(ctx, `${prefix}${which}.passwordPath`) || undefined, type, key };
}

function protocolOf(v: string): 'TLSv1.2' | 'TLSv1.3' {
  return v === 'TLSv1.3' ? 'TLSv1.3' : 'TLSv1.2';
}

function tlsSettings(ctx: Ctx, prefix: 'ssl.' | 'ssl.quorum.'): TlsSettings {
  const protocolText = get(ctx, `${prefix}protocol`);
  // "TLS" asks Java for its newest protocol.
  const protocol = protocolText === undefined ? 'TLSv1.2' : protocolText === 'TLS' ? 'TLSv1.3' : protocolOf(protocolText);
  const enabledText = get(ctx, `${prefix}enabledProtocols`);
  const enabledProtocols = enabledText ? [...new Set(enabledText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(protocolOf))] : protocol === 'TLSv1.3' ? ['TLSv1.3', 'TLSv1.2'] as ('TLSv1.2' | 'TLSv1.3')[] : ['TLSv1.2'] as ('TLSv1.2' | 'TLSv1.3')[];
  const suitesText = get(ctx, `${prefix}ciphersuites`);
  const suites = suitesText?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const hostnameVerification = bool(ctx, `${prefix}hostnameVerification`, true);
  return {
    prefix,
    keyStore: storeSpec(ctx, prefix, 'keyStore'),
    trustStore: storeSpec(ctx, prefix, 'trustStore'),
    clientAuth: ((get(ctx, `${prefix}clientAuth`) || 'need').toLowerCase()) as ClientAuth,
    protocol,
    enabledProtocols,
    ciphersuites: suites ? { tls12: suites.filter((s) => TLS12_SUITES[s]).map((s) => TLS12_SUITES[s]!), tls13: suites.filter((s) => TLS13_SUITES.includes(s)) } : undefined,
    hostnameVerification,
    // ZooKeeper: client-address checks only where hostname verification is on at all.
    clientHostnameVerification: hostnameVerification && bool(ctx, `${prefix}clientHostnameVerification`, prefix === 'ssl.quorum.'),
    handshakeTimeoutMs: Number(get(ctx, `${prefix}handshakeDetectionTimeoutMillis`) ?? 5000),
  };
}

function port(ctx: Ctx, key: string): number | undefined {
  const v = get(ctx, key);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) > 65535) {
    error(ctx, key, `${key} must be a port number, got '${v}'`);
    return undefined;
  }
  return Number(v) === 0 ? undefined : Number(v);
}

/** Cross-key rules (ZooKeeper's own, plus what fail-closed needs). */
function crossChecks(ctx: Ctx, s: SecurityConfig): void {
  const q = s.quorumAuth;
  if (!q.enableSasl && q.serverRequireSasl) error(ctx, 'quorum.auth.serverRequireSasl', 'quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.serverRequireSasl');
  if (!q.enableSasl && q.learnerRequireSasl) error(ctx, 'quorum.auth.learnerRequireSasl', 'quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.learnerRequireSasl');
  if (!q.learnerRequireSasl && q.serverRequireSasl) error(ctx, 'quorum.auth.serverRequireSasl', 'quorum.auth.learnerRequireSasl is disabled, so cannot enable quorum.auth.serverRequireSasl');
  if (s.secureClientPortAddress !== undefined && s.secureClientPort === undefined) error(ctx, 'secureClientPortAddress', 'secureClientPortAddress is set but secureClientPort is not set');
  const tlsOnClientPort = s.secureClientPort !== undefined || s.clientPortUnification;
  if (tlsOnClientPort && !s.clientTls.keyStore) error(ctx, s.secureClientPort !== undefined ? 'secureClientPort' : 'client.portUnification', 'TLS on the client port needs ssl.keyStore.location (this server\'s key and certificate)');
  if ((s.sslQuorum || s.quorumPortUnification) && !s.quorumTls.keyStore) error(ctx, s.sslQuorum ? 'sslQuorum' : 'portUnification', 'TLS between members needs ssl.quorum.keyStore.location');
  if (s.sslQuorum && !s.quorumTls.trustStore) error(ctx, 'sslQuorum', 'TLS between members needs ssl.quorum.trustStore.location (the CA members\' certificates chain to)');
  if (s.enforceAuthSchemes) {
    if (s.enforceAuthSchemes.length === 0) error(ctx, 'enforce.auth.enabled', 'enforce.auth.enabled is true enforce.auth.schemes must be configured.');
    const available = new Set(['digest', 'ip', ...s.authProviders]);
    if (!s.digestEnabled) available.delete('digest');
    for (const scheme of s.enforceAuthSchemes) if (!available.has(scheme)) error(ctx, 'enforce.auth.schemes', `Authentication scheme ${scheme} is not available.`);
  }
}

/** Applies each key's rule: refused keys and values that fail their check become errors. */
function checkKeys(ctx: Ctx, lookup: (key: string) => KeyRule | undefined): void {
  for (const [key, setting] of ctx.raw) {
    const rule = lookup(key);
    if (!rule) continue;
    if (rule.kind === 'refused') {
      if (!rule.allow?.(setting.value)) error(ctx, key, `${key} is not supported: ${rule.why}`);
      continue;
    }
    const problem = rule.check?.(setting.value);
    if (problem) error(ctx, key, `${key}: ${problem}`);
  }
}

/**
 * Reads every security setting. `raw` holds zoo.cfg entries (key as written) and JVM flags (key
 * without `zookeeper.`, zoo.cfg winning). Unknown-but-security keys and refused values become errors.
 */
export function resolveSecurity(raw: ReadonlyMap<string, RawSetting>): { security: SecurityConfig; issues: SecurityIssue[] } {
  const ctx: Ctx = { raw, issues: [] };
  checkKeys(ctx, ruleFor);
  const providers = new Set<'sasl' | 'x509'>();
  for (const [key, setting] of raw) {
    if (!key.startsWith('authProvider.')) continue;
    const scheme = AUTH_PROVIDER_CLASSES[setting.value.trim()];
    if (scheme === 'sasl' || scheme === 'x509') providers.add(scheme);
  }
  const secureClientPort = port(ctx, 'secureClientPort');
  // QuorumPeerConfig.configureSSLAuth: a secure client port registers the x509 provider. So does
  // a unified port here (Apache 3.8 closes its certificate clients without authProvider.x509).
  if (secureClientPort !== undefined || bool(ctx, 'client.portUnification', false)) providers.add('x509');
  const sessionRequireSasl = bool(ctx, 'sessionRequireClientSASLAuth', false);
  const enforce = sessionRequireSasl || bool(ctx, 'enforce.auth.enabled', false);
  const schemesText = get(ctx, 'enforce.auth.schemes');
  const security: SecurityConfig = {
    secureClientPort,
    secureClientPortAddress: get(ctx, 'secureClientPortAddress'),
    clientPortUnification: bool(ctx, 'client.portUnification', false),
    clientTls: tlsSettings(ctx, 'ssl.'),
    clientCertReload: bool(ctx, 'client.certReload', false),
    quorumTls: tlsSettings(ctx, 'ssl.quorum.'),
    sslQuorum: bool(ctx, 'sslQuorum', false),
    quorumPortUnification: bool(ctx, 'portUnification', false),
    sslQuorumReloadCertFiles: bool(ctx, 'sslQuorumReloadCertFiles', false),
    authProviders: providers,
    digestEnabled: bool(ctx, 'DigestAuthenticationProvider.enabled', true),
    digestAlg: DIGEST_ALGS[(get(ctx, 'DigestAuthenticationProvider.digestAlg') ?? 'SHA1').toUpperCase()] ?? 'sha1',
    x509SuperUser: get(ctx, 'X509AuthenticationProvider.superUser'),
    saslSuperUsers: [...raw].filter(([k]) => k === 'superUser' || k.startsWith('superUser.')).map(([, s]) => s.value.trim()),
    saslSuperPassword: get(ctx, 'SASLAuthenticationProvider.superPassword'),
    enforceAuthSchemes: !enforce ? undefined : sessionRequireSasl ? ['sasl'] : (schemesText ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''),
    jaasFile: get(ctx, 'java.security.auth.login.config'),
    saslServerSection: get(ctx, 'sasl.serverconfig') ?? 'Server',
    saslServerSectionSet: get(ctx, 'sasl.serverconfig') !== undefined,
    quorumAuth: {
      enableSasl: bool(ctx, 'quorum.auth.enableSasl', false),
      learnerRequireSasl: bool(ctx, 'quorum.auth.learnerRequireSasl', false),
      serverRequireSasl: bool(ctx, 'quorum.auth.serverRequireSasl', false),
      learnerLoginContext: get(ctx, 'quorum.auth.learner.saslLoginContext') ?? 'QuorumLearner',
      serverLoginContext: get(ctx, 'quorum.auth.server.saslLoginContext') ?? 'QuorumServer',
    },
  };
  crossChecks(ctx, security);
  return { security, issues: ctx.issues };
}

// ------------------------------------------------------------------ the client side

/**
 * What a ZooKeeper client reads (ZKClientConfig: the `-client-configuration` file of zkCli, and
 * `-Dzookeeper.*` flags), for `zabkeeper shell`. Keys arrive without `zookeeper.`, as for the server.
 */
export interface ClientSecurityConfig {
  /** zookeeper.client.secure: connect with TLS using the ssl.* settings. */
  secure: boolean;
  tls: TlsSettings;
  /** zookeeper.sasl.client (default true): log in with the JAAS section when there is one. */
  saslEnabled: boolean;
  /** zookeeper.sasl.clientconfig: the JAAS section (default Client). */
  saslSection: string;
  saslSectionSet: boolean;
  jaasFile?: string;
  /** jute.maxbuffer: the largest reply accepted. */
  maxFrameBytes?: number;
}

/** Client keys besides the ssl.* family and the JVM-only ones. */
const CLIENT_KEYS: Readonly<Record<string, KeyRule>> = {
  'client.secure': { kind: 'supported', doc: 'connect with TLS (ssl.* settings)', check: boolProblem },
  clientCnxnSocket: { kind: 'supported', doc: 'accepted (NIO or Netty): one connection layer, which does TLS' },
  'sasl.client': { kind: 'supported', doc: 'false: never log in with SASL', check: boolProblem },
  'sasl.clientconfig': { kind: 'supported', doc: 'JAAS section with the DIGEST-MD5 username and password (default Client)' },
  'java.security.auth.login.config': { kind: 'supported', doc: 'the JAAS file' },
  // Kerberos service naming; DIGEST-MD5 always talks to zookeeper/zk-sasl-md5, so they change nothing.
  'sasl.client.username': { kind: 'supported', doc: 'Kerberos service name: unused by DIGEST-MD5' },
  'sasl.client.canonicalize.hostname': { kind: 'supported', doc: 'Kerberos host canonicalisation: unused by DIGEST-MD5' },
  'server.principal': { kind: 'supported', doc: 'Kerberos server principal: unused by DIGEST-MD5' },
  'server.realm': { kind: 'supported', doc: 'Kerberos realm: unused by DIGEST-MD5' },
  'jute.maxbuffer': { kind: 'supported', doc: 'largest reply accepted', check: (v) => (/^\d+$/.test(v.trim()) && Number(v) > 0 ? undefined : `'${v}' is not a positive number of bytes`) },
};

function clientRuleFor(key: string): KeyRule | undefined {
  if (CLIENT_KEYS[key]) return CLIENT_KEYS[key];
  if (JVM_ONLY[key]) return JVM_ONLY[key];
  // The quorum's TLS settings are the servers' business.
  if (key.startsWith('ssl.quorum.')) return undefined;
  if (key.startsWith('ssl.')) return TLS_SUFFIXES[key.slice('ssl.'.length)] ?? unknownSsl;
  if (key.startsWith('kerberos.') || key.startsWith('sun.security.krb5.')) return { kind: 'refused', doc: 'Kerberos', why: KERBEROS };
  return undefined;
}

/**
 * Reads a client's settings. `raw` holds the -client-configuration file's entries over the -D
 * flags (keys without `zookeeper.`). Other keys (zkCli's own, ours) are not security and are left
 * alone, as ZKClientConfig leaves them; a security setting we cannot honour is an error.
 */
export function resolveClientSecurity(raw: ReadonlyMap<string, RawSetting>): { security: ClientSecurityConfig; issues: SecurityIssue[] } {
  const ctx: Ctx = { raw, issues: [] };
  checkKeys(ctx, clientRuleFor);
  const maxBuffer = get(ctx, 'jute.maxbuffer');
  const security: ClientSecurityConfig = {
    secure: bool(ctx, 'client.secure', false),
    tls: tlsSettings(ctx, 'ssl.'),
    saslEnabled: bool(ctx, 'sasl.client', true),
    saslSection: get(ctx, 'sasl.clientconfig') ?? 'Client',
    saslSectionSet: get(ctx, 'sasl.clientconfig') !== undefined,
    jaasFile: get(ctx, 'java.security.auth.login.config'),
    ...(maxBuffer !== undefined && /^\d+$/.test(maxBuffer) ? { maxFrameBytes: Number(maxBuffer) } : {}),
  };
  return { security, issues: ctx.issues };
}

/** True for keys this module owns (zoo.cfg must not also warn "unknown key" for them). */
export function isSecurityKey(key: string): boolean {
  return ruleFor(key) !== undefined;
}

/**
 * `-Dname=value` flags from SERVER_JVMFLAGS / JVMFLAGS text, split on blanks as zkServer.sh's
 * unquoted `$JVMFLAGS` is. `zookeeper.` is stripped so the key matches its zoo.cfg spelling.
 */
export function parseJvmFlags(text: string, origin: string): Map<string, RawSetting> {
  const out = new Map<string, RawSetting>();
  for (const token of text.split(/\s+/)) {
    const m = /^-D([^=]+)=(.*)$/.exec(token);
    if (!m) continue;
    const key = m[1]!.startsWith('zookeeper.') ? m[1]!.slice('zookeeper.'.length) : m[1]!;
    out.set(key, { value: m[2]!, line: 0, origin, property: m[1]! });
  }
  return out;
}

/**
 * A zoo.cfg key spelled with the `zookeeper.` prefix: ZooKeeper would read it as the system
 * property `zookeeper.zookeeper.<key>`, i.e. silently ignore it. For a security key that is a
 * trap (the operator believes it is on), so it is refused with the right spelling.
 */
export function misspelledSecurityKey(key: string): string | undefined {
  if (!key.startsWith('zookeeper.')) return undefined;
  const rest = key.slice('zookeeper.'.length);
  return isSecurityKey(rest) ? rest : undefined;
}
