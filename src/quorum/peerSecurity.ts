import net from 'node:net';
import tls from 'node:tls';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { TlsSettings } from '../config';
import { acceptPeer, firstByte, protocolOptions, TLS_HANDSHAKE_RECORD, type TlsMaterial } from '../server/tls';

/**
 * How two members open a peer link, before any quorum message: optional TLS (sslQuorum, with
 * portUnification accepting both during a rolling switch), then the hello that names the dialer,
 * optionally authenticated (quorum.auth.enableSasl) by a mutual challenge-response over the JAAS
 * credentials. A link that fails any step is dropped and logged; nothing from it reaches the core.
 *
 * Hello, dialer -> acceptor:  magic 'ZBKP' | id                          (no quorum auth)
 *                             magic 'ZBKA' | id | nonceL(16) | len(2) | username   (quorum auth)
 * With ZBKA the acceptor answers nonceS(16) | HMAC-SHA256(password, "server" ...) and the dialer
 * answers HMAC-SHA256(password, "learner" ...); both MACs cover both ids, both nonces and the
 * username, so neither can be replayed to another member or link. Only then do frames flow.
 *
 * Who authenticates follows ZooKeeper's quorum.auth.* so its rolling switch works unchanged:
 * a dialer authenticates only with learnerRequireSasl (ZooKeeper's learner skips SASL otherwise);
 * an acceptor with enableSasl answers an authenticating dialer and, unless serverRequireSasl,
 * also lets a plain hello in. Steps: enableSasl everywhere, then learnerRequireSasl, then
 * serverRequireSasl, each member by member, the ensemble serving throughout. Unlike ZooKeeper,
 * a dialer whose proof fails is always dropped, even while serverRequireSasl is off.
 */

export const MAGIC_PLAIN = 0x5a424b50; // "ZBKP"
export const MAGIC_AUTH = 0x5a424b41; // "ZBKA"
const NONCE = 16;
const MAC = 32;

export interface QuorumAuthSettings {
  /** QuorumLearner section: the credentials this member dials with. */
  learner?: { username: string; password: string };
  /** QuorumServer section: user -> password accepted from dialers. */
  serverUsers?: ReadonlyMap<string, string>;
  /** The acceptor refuses dialers that do not authenticate. */
  serverRequire: boolean;
  /** The dialer refuses an acceptor that does not prove the credentials. */
  learnerRequire: boolean;
}

export interface PeerSecurityOptions {
  tls?: { settings: TlsSettings; material: () => TlsMaterial; sslQuorum: boolean; portUnification: boolean };
  auth?: QuorumAuthSettings;
  logger: Logger;
  /** Each step of the handshake must finish within this. */
  timeoutMs: number;
}

export class PeerHandshakeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeerHandshakeError';
  }
}

/** Reads exactly n bytes (keeping any extra for the caller), or fails on close/timeout. */
class Reader {
  private buf = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private failed: Error | undefined;
  private readonly onData = (c: Buffer): void => {
    this.buf = Buffer.concat([this.buf, c]);
    this.waiter?.();
  };
  private readonly onEnd = (): void => {
    this.failed = new PeerHandshakeError('peer closed during the handshake');
    this.waiter?.();
  };

  constructor(private readonly socket: net.Socket, private readonly timeoutMs: number) {
    socket.on('data', this.onData);
    socket.once('close', this.onEnd);
    // A port-unification sniff leaves the socket paused with its first bytes unread.
    socket.resume();
  }

  async take(n: number): Promise<Buffer> {
    const deadline = setTimeout(() => {
      this.failed = new PeerHandshakeError(`handshake timed out after ${this.timeoutMs} ms`);
      this.waiter?.();
    }, this.timeoutMs);
    try {
      while (this.buf.length < n) {
        if (this.failed) throw this.failed;
        await new Promise<void>((r) => (this.waiter = r));
      }
    } finally {
      clearTimeout(deadline);
      this.waiter = undefined;
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Stops reading; returns what arrived after the handshake (the first frames). */
  release(): Buffer {
    this.socket.off('data', this.onData);
    this.socket.off('close', this.onEnd);
    return this.buf;
  }
}

function mac(password: string, role: 'server' | 'learner', dialer: number, acceptor: number, nonceL: Buffer, nonceS: Buffer, user: string): Buffer {
  return createHmac('sha256', password).update(`zabkeeper-quorum ${role} ${dialer}>${acceptor} ${user}\n`).update(nonceL).update(nonceS).digest();
}

function tlsOptions(t: NonNullable<PeerSecurityOptions['tls']>): tls.SecureContextOptions {
  return { ...t.material(), ...protocolOptions(t.settings) };
}

export class PeerSecurity {
  constructor(private readonly o: PeerSecurityOptions) {}

  /** A socket to a peer's quorum port, and the event that says it is ready for the hello. */
  dialSocket(addr: { host: string; port: number }): { socket: net.Socket; ready: 'connect' | 'secureConnect' } {
    const t = this.o.tls;
    if (!t?.sslQuorum) return { socket: net.connect({ host: addr.host, port: addr.port, noDelay: true }), ready: 'connect' };
    const socket = tls.connect({
      ...tlsOptions(t),
      host: addr.host,
      port: addr.port,
      servername: net.isIP(addr.host) ? undefined : addr.host,
      // ssl.quorum.hostnameVerification=false: trust any certificate the CA signed.
      checkServerIdentity: t.settings.hostnameVerification ? tls.checkServerIdentity : () => undefined,
    });
    socket.setNoDelay(true);
    return { socket, ready: 'secureConnect' };
  }

  /**
   * An inbound socket: TLS is required with sslQuorum, accepted beside plaintext with
   * portUnification (told apart by the first byte, 0x16 = a TLS handshake record).
   */
  async acceptSocket(raw: net.Socket): Promise<net.Socket> {
    const t = this.o.tls;
    if (!t || (!t.sslQuorum && !t.portUnification)) return raw;
    let first: number;
    try {
      first = await firstByte(raw, this.o.timeoutMs);
    } catch (err) {
      throw new PeerHandshakeError(`handshake: ${(err as Error).message}`);
    }
    if (first !== TLS_HANDSHAKE_RECORD) {
      if (!t.portUnification) throw new PeerHandshakeError('plaintext connection refused: sslQuorum requires TLS');
      return raw; // still paused: the hello's Reader resumes it once it listens
    }
    const socket = await this.tlsHandshake(raw, t);
    const refused = acceptPeer(socket, t.settings);
    if (refused) throw new PeerHandshakeError(refused);
    return socket;
  }

  private tlsServer: tls.Server | undefined;
  private readonly handshakes = new Map<string, { resolve: (s: tls.TLSSocket) => void; reject: (e: Error) => void }>();

  /**
   * Server-side TLS on an accepted socket, through a tls.Server that never listens (it is the one
   * that sets `authorized` from the certificate check). Handshakes are matched to their sockets by
   * the remote address and port. The server asks for a certificate but rejects nothing itself:
   * Node would drop an untrusted one silently (no event, so it looked like a timeout); acceptPeer
   * decides instead and says why.
   */
  private tlsHandshake(raw: net.Socket, t: NonNullable<PeerSecurityOptions['tls']>): Promise<tls.TLSSocket> {
    if (!this.tlsServer) {
      this.tlsServer = tls.createServer({ ...tlsOptions(t), requestCert: t.settings.clientAuth !== 'none', rejectUnauthorized: false });
      this.tlsServer.on('secureConnection', (s: tls.TLSSocket) => this.handshakes.get(`${s.remoteAddress}:${s.remotePort}`)?.resolve(s));
      this.tlsServer.on('tlsClientError', (e, s) => this.handshakes.get(`${s.remoteAddress}:${s.remotePort}`)?.reject(new PeerHandshakeError(`TLS handshake failed: ${e.message}`)));
    }
    // The stores may have been reloaded (sslQuorumReloadCertFiles).
    this.tlsServer.setSecureContext({ ...tlsOptions(t) });
    const key = `${raw.remoteAddress}:${raw.remotePort}`;
    return new Promise<tls.TLSSocket>((resolve, reject) => {
      const timer = setTimeout(() => done(undefined, new PeerHandshakeError('TLS handshake timed out')), this.o.timeoutMs);
      const onClose = (): void => done(undefined, new PeerHandshakeError('peer closed during the TLS handshake'));
      const done = (s?: tls.TLSSocket, e?: Error): void => {
        clearTimeout(timer);
        raw.off('close', onClose);
        this.handshakes.delete(key);
        if (s) resolve(s);
        else reject(e!);
      };
      this.handshakes.set(key, { resolve: (s) => done(s), reject: (e) => done(undefined, e) });
      raw.once('close', onClose);
      this.tlsServer!.emit('connection', raw);
    });
  }

  /** Dialer side of the hello; returns bytes that arrived after it. */
  async dialHello(socket: net.Socket, self: number, peer: number): Promise<Buffer> {
    const learner = this.o.auth?.learnerRequire ? this.o.auth.learner : undefined;
    if (!learner) {
      const hello = Buffer.alloc(8);
      hello.writeUInt32BE(MAGIC_PLAIN, 0);
      hello.writeInt32BE(self, 4);
      socket.write(hello);
      return Buffer.alloc(0);
    }
    const reader = new Reader(socket, this.o.timeoutMs);
    const nonceL = randomBytes(NONCE);
    const user = Buffer.from(learner.username, 'utf8');
    const head = Buffer.alloc(8);
    head.writeUInt32BE(MAGIC_AUTH, 0);
    head.writeInt32BE(self, 4);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(user.length);
    socket.write(Buffer.concat([head, nonceL, len, user]));
    const reply = await reader.take(NONCE + MAC);
    const nonceS = reply.subarray(0, NONCE);
    const expected = mac(learner.password, 'server', self, peer, nonceL, nonceS, learner.username);
    if (!timingSafeEqual(reply.subarray(NONCE), expected)) {
      reader.release();
      throw new PeerHandshakeError(`server ${peer} failed to prove the quorum credentials of ${learner.username}`);
    }
    socket.write(mac(learner.password, 'learner', self, peer, nonceL, nonceS, learner.username));
    this.o.logger.info({ peer, user: learner.username }, 'authenticated to quorum peer');
    return reader.release();
  }

  /**
   * Acceptor side: reads the hello, checks the dialer is a member allowed to dial us and, with
   * quorum auth, that it knows its password. Returns its id and the bytes after the hello.
   */
  async acceptHello(socket: net.Socket, self: number, mayDial: (id: number) => boolean): Promise<{ id: number; rest: Buffer }> {
    const reader = new Reader(socket, this.o.timeoutMs);
    try {
      const head = await reader.take(8);
      const magic = head.readUInt32BE(0);
      const id = head.readInt32BE(4);
      if ((magic !== MAGIC_PLAIN && magic !== MAGIC_AUTH) || !mayDial(id)) throw new PeerHandshakeError(`not a member of this ensemble (magic ${magic.toString(16)}, id ${id})`);
      const auth = this.o.auth;
      if (magic === MAGIC_PLAIN) {
        if (auth?.serverRequire) throw new PeerHandshakeError(`member ${id} did not authenticate and quorum.auth.serverRequireSasl is on`);
        return { id, rest: reader.release() };
      }
      if (!auth?.serverUsers) throw new PeerHandshakeError(`member ${id} authenticates but quorum.auth.enableSasl is off here`);
      const nonceL = await reader.take(NONCE);
      const userLen = (await reader.take(2)).readUInt16BE(0);
      const username = (await reader.take(userLen)).toString('utf8');
      const password = auth.serverUsers.get(username);
      if (password === undefined) throw new PeerHandshakeError(`member ${id}: unknown quorum user ${username}`);
      const nonceS = randomBytes(NONCE);
      socket.write(Buffer.concat([nonceS, mac(password, 'server', id, self, nonceL, nonceS, username)]));
      const proof = await reader.take(MAC);
      if (!timingSafeEqual(proof, mac(password, 'learner', id, self, nonceL, nonceS, username))) throw new PeerHandshakeError(`member ${id}: wrong quorum password for ${username}`);
      this.o.logger.info({ peer: id, user: username }, 'quorum peer authenticated');
      return { id, rest: reader.release() };
    } catch (err) {
      reader.release();
      throw err;
    }
  }
}
