import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * SASL DIGEST-MD5 (RFC 2831), both sides, as ZooKeeper's Java client and server speak it: protocol
 * `zookeeper`, server name and realm `zk-sasl-md5` on the client port (`zookeeper-quorum` /
 * `zk-quorum-sasl-md5` between members), qop `auth` only (no integrity or confidentiality layer:
 * run TLS for that), algorithm md5-sess, charset utf-8. Pure: nonces come in as arguments.
 */

export const CLIENT_PORT_SASL = { protocol: 'zookeeper', serverName: 'zk-sasl-md5' } as const;

export class SaslError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SaslError';
  }
}

/** Parses `k=v,k="quoted, \"v\""` directives. */
export function parseDirectives(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < text.length) {
    while (i < text.length && (text[i] === ',' || text[i] === ' ' || text[i] === '\t')) i++;
    const eq = text.indexOf('=', i);
    if (eq < 0) break;
    const key = text.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    let value = '';
    if (text[i] === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i++];
      }
      i++;
    } else {
      const end = text.indexOf(',', i);
      value = text.slice(i, end < 0 ? text.length : end).trim();
      i = end < 0 ? text.length : end;
    }
    if (out.has(key)) throw new SaslError(`duplicate directive ${key}`);
    out.set(key, value);
  }
  return out;
}

const md5 = (data: Buffer | string): Buffer => createHash('md5').update(data).digest();
const hex = (b: Buffer): string => b.toString('hex');

/** RFC 2831 2.1.2.1: with charset=utf-8, text that fits ISO 8859-1 is hashed as ISO 8859-1. */
function encode(s: string, utf8: boolean): Buffer {
  return utf8 && [...s].some((c) => c.codePointAt(0)! > 0xff) ? Buffer.from(s, 'utf8') : Buffer.from(s, 'latin1');
}

interface DigestParams {
  username: string;
  realm: string;
  password: string;
  nonce: string;
  cnonce: string;
  nc: string;
  qop: string;
  digestUri: string;
  authzid?: string;
  utf8: boolean;
}

/** The response value (A2 prefix `AUTHENTICATE:`) or rspauth (empty A2 prefix). */
function responseValue(p: DigestParams, a2Prefix: string): string {
  const inner = md5(Buffer.concat([encode(p.username, p.utf8), Buffer.from(':'), encode(p.realm, p.utf8), Buffer.from(':'), encode(p.password, p.utf8)]));
  const a1 = Buffer.concat([inner, Buffer.from(`:${p.nonce}:${p.cnonce}${p.authzid ? `:${p.authzid}` : ''}`)]);
  const ha2 = hex(md5(`${a2Prefix}:${p.digestUri}`));
  return hex(md5(`${hex(md5(a1))}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`));
}

/**
 * Server side: `challenge()` first (the client's first token is empty), then `respond(token)`
 * checks the client's digest-response against the user's password and returns `rspauth`. The
 * authenticated identity is the username (ZooKeeper's SaslServerCallbackHandler authorizes it).
 */
export class DigestMd5Server {
  private step: 'new' | 'challenged' | 'done' = 'new';
  identity: string | undefined;

  constructor(
    private readonly opts: { protocol: string; serverName: string; nonce: string; passwordOf: (user: string) => string | undefined },
  ) {}

  get complete(): boolean {
    return this.step === 'done';
  }

  /** One SASL round: the client's token in, the server's token out; throws SaslError on failure. */
  evaluate(token: Buffer): Buffer {
    if (this.step === 'new') {
      this.step = 'challenged';
      return Buffer.from(`realm="${this.opts.serverName}",nonce="${this.opts.nonce}",qop="auth",charset=utf-8,algorithm=md5-sess`);
    }
    if (this.step === 'done') throw new SaslError('SASL exchange already complete');
    const d = parseDirectives(token.toString('utf8'));
    const username = d.get('username');
    if (!username) throw new SaslError('digest-response without username');
    const password = this.opts.passwordOf(username);
    if (password === undefined) throw new SaslError(`unknown user ${username}`);
    if ((d.get('nonce') ?? '') !== this.opts.nonce) throw new SaslError('nonce mismatch');
    if ((d.get('nc') ?? '') !== '00000001') throw new SaslError('nonce count must be 00000001');
    const qop = d.get('qop') ?? 'auth';
    if (qop !== 'auth') throw new SaslError(`qop ${qop} is not offered`);
    const realm = d.get('realm') ?? this.opts.serverName;
    if (realm !== this.opts.serverName) throw new SaslError(`realm ${realm} is not ${this.opts.serverName}`);
    const digestUri = d.get('digest-uri') ?? '';
    if (digestUri !== `${this.opts.protocol}/${this.opts.serverName}`) throw new SaslError(`digest-uri ${digestUri} is not ${this.opts.protocol}/${this.opts.serverName}`);
    const cnonce = d.get('cnonce');
    if (!cnonce) throw new SaslError('digest-response without cnonce');
    const params: DigestParams = { username, realm, password, nonce: this.opts.nonce, cnonce, nc: '00000001', qop, digestUri, authzid: d.get('authzid'), utf8: d.get('charset') === 'utf-8' };
    const expected = Buffer.from(responseValue(params, 'AUTHENTICATE'));
    const got = Buffer.from(d.get('response') ?? '');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) throw new SaslError(`wrong password for ${username}`);
    this.step = 'done';
    this.identity = username;
    return Buffer.from(`rspauth=${responseValue(params, '')}`);
  }
}

/** Client side, for our own client: answers the challenge, then checks the server's rspauth. */
export class DigestMd5Client {
  private params: DigestParams | undefined;
  private done = false;

  constructor(private readonly opts: { protocol: string; serverName: string; username: string; password: string; cnonce: string }) {}

  get complete(): boolean {
    return this.done;
  }

  evaluate(token: Buffer): Buffer | null {
    if (!this.params) {
      const d = parseDirectives(token.toString('utf8'));
      const nonce = d.get('nonce');
      if (!nonce) throw new SaslError('challenge without nonce');
      if (!(d.get('qop') ?? 'auth').split(',').map((s) => s.trim()).includes('auth')) throw new SaslError('server does not offer qop auth');
      const realm = d.get('realm') ?? this.opts.serverName;
      this.params = { username: this.opts.username, realm, password: this.opts.password, nonce, cnonce: this.opts.cnonce, nc: '00000001', qop: 'auth', digestUri: `${this.opts.protocol}/${this.opts.serverName}`, utf8: d.get('charset') === 'utf-8' };
      const p = this.params;
      const q = (s: string) => `"${s.replace(/(["\\])/g, '\\$1')}"`;
      return Buffer.from(
        `charset=utf-8,username=${q(p.username)},realm=${q(p.realm)},nonce=${q(p.nonce)},nc=${p.nc},cnonce=${q(p.cnonce)},digest-uri=${q(p.digestUri)},maxbuf=65536,response=${responseValue(p, 'AUTHENTICATE')},qop=auth`,
      );
    }
    const rspauth = parseDirectives(token.toString('utf8')).get('rspauth');
    if (rspauth !== responseValue(this.params, '')) throw new SaslError('server failed to prove it knows the password (bad rspauth)');
    this.done = true;
    return null;
  }
}
