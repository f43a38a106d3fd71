import fs from 'node:fs';
import type net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Id } from '../../protocol/jute/data';
import type { SecurityConfig } from '../config';
import { certificateSubject } from '../acl/x509name';
import { CLIENT_PORT_SASL, DigestMd5Server, SaslError } from '../../protocol/sasl/digestMd5';
import { digestSection, parseJaas, usersOf } from '../config/jaas';
import { OpCode } from '../../protocol/jute/constants';

/** Thrown at start for a JAAS file that cannot be used; names the key that pointed at it. */
export class JaasConfigError extends Error {
  constructor(message: string) {
    super(`java.security.auth.login.config: ${message}`);
    this.name = 'JaasConfigError';
  }
}

/** One SASL round's outcome for the sasl connection op. */
export type SaslStep = { ok: true; token: Buffer | null; ids: Id[] } | { ok: false; err: number; why: string };
import { acceptPeer, firstByte, loadTlsMaterial, serverTlsOptions, TLS_HANDSHAKE_RECORD, watchStores } from './tls';

/**
 * The client-port side of security, as the server runs it: the TLS listener on secureClientPort
 * (with certificate reload), TLS on the plaintext port too with client.portUnification, the x509
 * identity of a client certificate, and the identities and rules the auth handlers consult.
 * Everything that reads files happens in `create`, so a bad key store or JAAS file stops the
 * start with a message naming its key.
 */
export class ClientSecurity {
  /** Handshakes TLS clients: listening on secureClientPort, and/or fed unified-port sockets. */
  private secureServer: tls.Server | undefined;
  /** Where a client that completed its TLS handshake goes (set by listen). */
  private accept: ((socket: net.Socket, ids: Id[]) => void) | undefined;
  private stopWatching: (() => void) | undefined;
  /** DIGEST-MD5 users of the JAAS `Server` section; undefined = SASL not configured. */
  private saslUsers: Map<string, string> | undefined;
  /** Each connection's SASL exchange in progress. */
  private readonly saslServers = new WeakMap<object, DigestMd5Server>();

  private constructor(
    readonly config: SecurityConfig,
    private readonly logger: Logger,
  ) {}

  /** Reads the stores now (throwing TlsConfigError on a bad one). */
  static create(config: SecurityConfig, logger: Logger): ClientSecurity {
    const sec = new ClientSecurity(config, logger);
    if (config.jaasFile !== undefined) sec.saslUsers = loadSaslUsers(config, logger);
    if (config.secureClientPort !== undefined || config.clientPortUnification) {
      const s = config.clientTls;
      const material = loadTlsMaterial(s);
      sec.secureServer = tls.createServer(serverTlsOptions(s, material));
      if (config.clientCertReload) {
        sec.stopWatching = watchStores(s, logger, (m) => sec.secureServer?.setSecureContext(serverTlsOptions(s, m)));
      }
      if (s.clientAuth !== 'none' && !s.trustStore) logger.warn('ssl.clientAuth asks for client certificates but ssl.trustStore.location is not set: they are checked against the system CAs');
    }
    return sec;
  }

  /** Scheme names ACLs may use (ZooKeeper's ProviderRegistry): ip, digest unless disabled, authProvider.N. */
  get aclSchemes(): ReadonlySet<string> {
    return (this.schemes ??= new Set<string>(['ip', ...this.config.authProviders, ...(this.config.digestEnabled ? ['digest'] : [])]));
  }

  private schemes: ReadonlySet<string> | undefined;

  /**
   * Starts the TLS client port; each connection that completes its handshake and passes the
   * client-certificate rules is handed to `accept` with the identities its certificate proves.
   */
  async listen(accept: (socket: net.Socket, ids: Id[]) => void): Promise<void> {
    const server = this.secureServer;
    this.accept = accept;
    if (!server) return;
    const s = this.config.clientTls;
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      const refused = acceptPeer(socket, s);
      if (refused) {
        this.logger.warn({ remote: socket.remoteAddress, reason: refused }, 'TLS client refused');
        socket.destroy();
        return;
      }
      accept(socket, this.x509Ids(socket));
    });
    server.on('tlsClientError', (err, socket) => this.logger.info({ remote: socket.remoteAddress, err: err.message }, 'TLS handshake failed'));
    server.on('error', (err) => this.logger.error({ err }, 'secure listener error'));
    if (this.config.secureClientPort === undefined) return;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.config.secureClientPortAddress ?? '0.0.0.0', port: this.config.secureClientPort, backlog: 511 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  /**
   * A connection to the plaintext client port. With client.portUnification its first byte decides
   * (as ZooKeeper's UnifiedServerSocket): a TLS handshake record goes through the TLS server (and
   * the client-certificate rules) exactly as on secureClientPort, anything else is plaintext.
   */
  plaintextPort(socket: net.Socket): void {
    const server = this.secureServer;
    if (!this.config.clientPortUnification || !server) return this.accept?.(socket, []);
    firstByte(socket, this.config.clientTls.handshakeTimeoutMs).then(
      (byte) => {
        if (byte === TLS_HANDSHAKE_RECORD) return void server.emit('connection', socket);
        this.accept?.(socket, []);
        socket.resume();
      },
      (err: Error) => {
        this.logger.info({ remote: socket.remoteAddress, err: err.message }, 'unified client port: connection closed before its first byte');
        socket.destroy();
      },
    );
  }

  get securePort(): number | undefined {
    if (this.config.secureClientPort === undefined) return undefined;
    const a = this.secureServer?.address();
    return typeof a === 'object' && a ? a.port : undefined;
  }

  /** X509AuthenticationProvider.handleAuthentication: `x509:<subject>`, plus `super` for the configured superUser. */
  private x509Ids(socket: tls.TLSSocket): Id[] {
    const cert = socket.getPeerX509Certificate();
    if (!cert || !this.config.authProviders.has('x509')) return [];
    const subject = certificateSubject(cert.raw);
    const ids: Id[] = [];
    if (this.config.x509SuperUser !== undefined && subject === this.config.x509SuperUser) ids.push({ scheme: 'super', id: subject });
    ids.push({ scheme: 'x509', id: subject });
    this.logger.info({ remote: socket.remoteAddress, subject }, 'authenticated client certificate');
    return ids;
  }

  /**
   * One SASL packet (ZooKeeperServer.processSasl): DIGEST-MD5 against the JAAS Server section. On
   * success the connection becomes `sasl:<user>` (and `super` for a zookeeper.superUser). Without
   * a JAAS file, ZooKeeper answers an empty token and nothing changes; so do we. A failure is
   * AuthFailed, or SessionClosedRequireSaslAuth when enforce.auth requires sasl.
   */
  saslStep(conn: object, token: Buffer | null): SaslStep {
    if (!this.saslUsers) return { ok: true, token: null, ids: [] };
    const users = this.saslUsers;
    let server = this.saslServers.get(conn);
    if (!server) {
      server = new DigestMd5Server({ ...CLIENT_PORT_SASL, nonce: randomBytes(24).toString('base64'), passwordOf: (u) => users.get(u) });
      this.saslServers.set(conn, server);
    }
    try {
      const reply = server.evaluate(token ?? Buffer.alloc(0));
      if (!server.complete) return { ok: true, token: reply, ids: [] };
      const user = server.identity!;
      const ids: Id[] = [{ scheme: 'sasl', id: user }];
      if (this.config.saslSuperUsers.includes(user)) ids.push({ scheme: 'super', id: '' });
      this.logger.info({ user }, 'SASL DIGEST-MD5 authenticated');
      return { ok: true, token: reply, ids };
    } catch (err) {
      if (!(err instanceof SaslError)) throw err;
      this.saslServers.delete(conn);
      this.logger.warn({ err: err.message }, 'SASL authentication failed; closing the connection');
      return { ok: false, err: this.config.enforceAuthSchemes?.includes('sasl') ? -124 : -115, why: err.message };
    }
  }

  /**
   * enforce.auth (AuthenticationHelper.enforceAuthentication): may a connection with these ids
   * send this request? auth and sasl packets always may; anything else needs an id of one of the
   * enforced schemes.
   */
  mayRequest(authIds: readonly Id[], opCode: number): boolean {
    const schemes = this.config.enforceAuthSchemes;
    if (!schemes || opCode === OpCode.auth || opCode === OpCode.sasl) return true;
    return authIds.some((id) => schemes.includes(id.scheme));
  }

  async close(): Promise<void> {
    this.stopWatching?.();
    const server = this.secureServer;
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Reads the JAAS file's client-port section (sasl.serverconfig, default Server) at start. */
function loadSaslUsers(config: SecurityConfig, logger: Logger): Map<string, string> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(config.jaasFile!, 'utf8');
  } catch (err) {
    throw new JaasConfigError(`cannot read ${config.jaasFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const sections = parseJaas(text);
    // As ZooKeeper: a JAAS file without the default Server section (quorum sections only) just
    // means no SASL on the client port; a section named by sasl.serverconfig must exist.
    if (!sections.has(config.saslServerSection) && !config.saslServerSectionSet) {
      logger.info({ jaas: config.jaasFile }, 'no JAAS Server section: no SASL on the client port');
      return undefined;
    }
    const users = usersOf(digestSection(sections, config.saslServerSection));
    if (config.saslSuperPassword !== undefined) users.set('super', config.saslSuperPassword);
    if (users.size === 0) throw new JaasConfigError(`section ${config.saslServerSection} of ${config.jaasFile} has no user_<name>="<password>" options`);
    return users;
  } catch (err) {
    if (err instanceof JaasConfigError) throw err;
    throw new JaasConfigError(`${config.jaasFile}: ${(err as Error).message}`);
  }
}
