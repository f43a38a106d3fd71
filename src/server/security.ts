import type net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { Id } from '../../protocol/jute/data';
import type { SecurityConfig } from '../config';
import { certificateSubject } from '../acl/x509name';
import { acceptPeer, loadTlsMaterial, serverTlsOptions, watchStores } from './tls';

/**
 * The client-port side of security, as the server runs it: the TLS listener on secureClientPort
 * (with certificate reload), the x509 identity of a client certificate, and the identities and
 * rules the auth handlers consult. Everything that reads files happens in `create`, so a bad key
 * store or JAAS file stops the start with a message naming its key.
 */
export class ClientSecurity {
  private secureServer: tls.Server | undefined;
  private stopWatching: (() => void) | undefined;

  private constructor(
    readonly config: SecurityConfig,
    private readonly logger: Logger,
  ) {}

  /** Reads the stores now (throwing TlsConfigError on a bad one). */
  static create(config: SecurityConfig, logger: Logger): ClientSecurity {
    const sec = new ClientSecurity(config, logger);
    if (config.secureClientPort !== undefined) {
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
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.config.secureClientPortAddress ?? '0.0.0.0', port: this.config.secureClientPort, backlog: 511 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  get securePort(): number | undefined {
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

  async close(): Promise<void> {
    this.stopWatching?.();
    const server = this.secureServer;
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
