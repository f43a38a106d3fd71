import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErrorCode, OpCode, Perms } from '../../protocol/jute/constants';
import { readSetSASLResponse, readWhoAmIResponse, writeGetSASLRequest } from '../../protocol/jute/records';
import { CLIENT_PORT_SASL, DigestMd5Client, DigestMd5Server, SaslError, parseDirectives } from '../../protocol/sasl/digestMd5';
import { digestSection, parseJaas, usersOf } from '../../src/config/jaas';
import { parseJvmFlags, parseZooCfg } from '../../src/config';
import { requests as rq } from '../../src/client/requests';
import type { WireConnection } from '../../src/client/wire';
import { startInProc, type InProcServer } from '../harness/inproc';

/**
 * SASL DIGEST-MD5 on the client port with a JAAS `Server` section (RFC 2831 checked against its own
 * worked example), the `sasl` ACL scheme, zookeeper.superUser, and enforce.auth answering -124 to
 * unauthenticated requests. zkCli.sh against both servers is in test/compat/sasl.test.ts.
 */

describe('DIGEST-MD5 mechanism', () => {
  test('RFC 2831 section 4 example: the client computes the published response and accepts the published rspauth', () => {
    // The RFC's exchange (chris/secret at elwood.innosoft.com, IMAP, charset not utf-8).
    const client = new DigestMd5Client({ protocol: 'imap', serverName: 'elwood.innosoft.com', username: 'chris', password: 'secret', cnonce: 'OA6MHXh6VqTrRk' });
    const response = parseDirectives(client.evaluate(Buffer.from('realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",algorithm=md5-sess'))!.toString());
    expect(response.get('response')).toBe('d388dad90d4bbd760a152321f2143af7');
    expect(client.evaluate(Buffer.from('rspauth=ea40f60335c427b5527b84dbabcdfffd'))).toBeNull();
    expect(client.complete).toBe(true);
  });

  test('server and client agree; a wrong password, user or forged rspauth fails', () => {
    const users = new Map([['bob', 'bobsecret']]);
    const run = (username: string, password: string) => {
      const server = new DigestMd5Server({ ...CLIENT_PORT_SASL, nonce: 'n0nce', passwordOf: (u) => users.get(u) });
      const client = new DigestMd5Client({ ...CLIENT_PORT_SASL, username, password, cnonce: 'c0nce' });
      const challenge = server.evaluate(Buffer.alloc(0));
      const rspauth = server.evaluate(client.evaluate(challenge)!);
      expect(client.evaluate(rspauth)).toBeNull();
      return server.identity;
    };
    expect(run('bob', 'bobsecret')).toBe('bob');
    expect(() => run('bob', 'wrong')).toThrow(/wrong password for bob/);
    expect(() => run('eve', 'x')).toThrow(/unknown user eve/);
    const client = new DigestMd5Client({ ...CLIENT_PORT_SASL, username: 'bob', password: 'bobsecret', cnonce: 'c' });
    client.evaluate(Buffer.from('realm="zk-sasl-md5",nonce="n",qop="auth",charset=utf-8,algorithm=md5-sess'));
    expect(() => client.evaluate(Buffer.from('rspauth=00000000000000000000000000000000'))).toThrow(SaslError);
  });
});

describe('JAAS files', () => {
  const JAAS = `// ZooKeeper's documented layout
Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_super="adminsecret"
  user_bob="bob's \\"quoted\\" secret";
};
/* the client side */
Client { org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password="x"; };
`;
  test('sections, users and quoted values', () => {
    const s = parseJaas(JAAS);
    expect([...usersOf(digestSection(s, 'Server'))]).toEqual([['super', 'adminsecret'], ['bob', 'bob\'s "quoted" secret']]);
    expect(digestSection(s, 'Client').options).toEqual({ username: 'bob', password: 'x' });
  });
  test('comments are comments only outside quoted strings: passwords with // or /* stay whole', () => {
    const text = `// a comment with "quotes"
Server { /* block */ org.apache.zookeeper.server.auth.DigestLoginModule required
  user_web="http://zk.example.com//path" // trailing comment
  user_star="a/*not a comment*/b" user_single='single quoted' user_esc="say \\"hi\\"";
};`;
    expect([...usersOf(digestSection(parseJaas(text), 'Server'))]).toEqual([['web', 'http://zk.example.com//path'], ['star', 'a/*not a comment*/b'], ['single', 'single quoted'], ['esc', 'say "hi"']]);
    expect(() => parseJaas('Server { m required a="no end\n"; };')).toThrow(/unterminated string/);
    expect(() => parseJaas('Server { m required; /* no end')).toThrow(/unterminated \/\* comment/);
  });

  test('Kerberos, unknown modules and missing sections are refused by name', () => {
    expect(() => digestSection(parseJaas('Server { com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true; };'), 'Server')).toThrow(/Kerberos/);
    expect(() => digestSection(parseJaas('Server { com.example.Login required; };'), 'Server')).toThrow(/com\.example\.Login is not supported/);
    expect(() => digestSection(parseJaas(JAAS), 'QuorumServer')).toThrow(/no JAAS section named 'QuorumServer'/);
    expect(() => parseJaas('Server { x required a="b" }')).toThrow(/expected an option name but found '}'/);
  });
});

describe('SASL on the client port', () => {
  let dir: string;
  let srv: InProcServer;

  function security(lines: string, jvm = '') {
    const r = parseZooCfg(`dataDir=/unused\nclientPort=1\n${lines}`, { jvmFlags: parseJvmFlags(jvm, 'SERVER_JVMFLAGS') });
    const errors = r.issues.filter((i) => i.severity === 'error');
    if (errors.length > 0) throw new Error(errors.map((e) => e.message).join('\n'));
    return r.config.security;
  }

  async function saslLogin(c: WireConnection, username: string, password: string): Promise<number> {
    const client = new DigestMd5Client({ ...CLIENT_PORT_SASL, username, password, cnonce: 'cnonce-1' });
    let token: Buffer | null = Buffer.alloc(0);
    for (let round = 0; round < 3; round++) {
      const r = await c.request(OpCode.sasl, (w) => writeGetSASLRequest(w, { token }), readSetSASLResponse);
      if (r.err !== 0) return r.err;
      token = client.evaluate(r.body!.token ?? Buffer.alloc(0));
      if (client.complete) return 0;
    }
    throw new Error('SASL did not complete in 3 rounds');
  }

  async function whoAmI(c: WireConnection): Promise<string[]> {
    const r = await c.request(OpCode.whoAmI, undefined, readWhoAmIResponse);
    return r.body!.clientInfo.map((i) => `${i.authScheme}:${i.user}`);
  }

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-sasl-'));
    fs.writeFileSync(path.join(dir, 'jaas.conf'), 'Server {\n org.apache.zookeeper.server.auth.DigestLoginModule required user_bob="bobsecret" user_alice="alicesecret";\n};\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => srv?.stop());

  test('DIGEST-MD5 login gives sasl:<user>; sasl ACLs; superUser; a wrong password is AuthFailed and closes', async () => {
    srv = await startInProc({
      security: security('authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\nsuperUser=alice\n', `-Djava.security.auth.login.config=${dir}/jaas.conf`),
    });
    const bob = await srv.connect();
    expect(await saslLogin(bob, 'bob', 'bobsecret')).toBe(0);
    expect(await whoAmI(bob)).toEqual(['ip:127.0.0.1', 'sasl:bob']);
    const acl = [{ perms: Perms.all, id: { scheme: 'sasl', id: 'bob' } }];
    expect((await rq.create(bob, '/bob-only', Buffer.from('b'), 0, acl)).err).toBe(0);
    const anon = await srv.connect();
    expect((await rq.getData(anon, '/bob-only')).err).toBe(ErrorCode.noAuth);
    const alice = await srv.connect();
    expect(await saslLogin(alice, 'alice', 'alicesecret')).toBe(0);
    expect(await whoAmI(alice)).toEqual(['ip:127.0.0.1', 'sasl:alice', 'super:']);
    expect((await rq.getData(alice, '/bob-only')).body?.data?.toString()).toBe('b');
    const eve = await srv.connect();
    const closed = new Promise((r) => eve.once('close', r));
    expect(await saslLogin(eve, 'bob', 'guess')).toBe(ErrorCode.authFailed);
    await closed;
    for (const c of [bob, anon, alice]) c.close();
  });

  test('without the SASL provider a sasl ACL is InvalidACL (as ZooKeeper); without a JAAS file the sasl packet is a no-op', async () => {
    srv = await startInProc({ security: security('', `-Djava.security.auth.login.config=${dir}/jaas.conf`) });
    const bob = await srv.connect();
    expect(await saslLogin(bob, 'bob', 'bobsecret')).toBe(0);
    expect((await rq.create(bob, '/s', null, 0, [{ perms: Perms.all, id: { scheme: 'sasl', id: 'bob' } }])).err).toBe(ErrorCode.invalidACL);
    await srv.stop();
    srv = await startInProc({ security: security('') });
    const c = await srv.connect();
    const r = await c.request(OpCode.sasl, (w) => writeGetSASLRequest(w, { token: Buffer.alloc(0) }), readSetSASLResponse);
    expect([r.err, r.body?.token]).toEqual([0, null]);
    c.close();
    bob.close();
  });

  test('enforce.auth: unauthenticated requests get -124 and the connection closes; authenticated ones pass', async () => {
    srv = await startInProc({
      security: security('authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\nenforce.auth.enabled=true\nenforce.auth.schemes=sasl,digest\n', `-Djava.security.auth.login.config=${dir}/jaas.conf`),
    });
    const anon = await srv.connect();
    const closed = new Promise((r) => anon.once('close', r));
    expect((await rq.exists(anon, '/')).err).toBe(ErrorCode.sessionClosedRequireSaslAuth);
    await closed;
    const bob = await srv.connect();
    expect(await saslLogin(bob, 'bob', 'bobsecret')).toBe(0);
    expect((await rq.exists(bob, '/')).err).toBe(0);
    const dig = await srv.connect();
    const auth = await dig.request(OpCode.auth, (w) => {
      w.writeInt(0);
      w.writeString('digest');
      w.writeBuffer(Buffer.from('carol:pw'));
    }, undefined, -4);
    expect(auth.err).toBe(0);
    expect((await rq.exists(dig, '/')).err).toBe(0);
    bob.close();
    dig.close();
  });

  test('a JAAS file that cannot be used stops the start, naming the key', async () => {
    fs.writeFileSync(path.join(dir, 'krb.conf'), 'Server { com.sun.security.auth.module.Krb5LoginModule required; };');
    await expect(startInProc({ security: security('', `-Djava.security.auth.login.config=${dir}/krb.conf`) })).rejects.toThrow(/java\.security\.auth\.login\.config: .*Kerberos/);
    await expect(startInProc({ security: security('sasl.serverconfig=ZkServer\n', `-Djava.security.auth.login.config=${dir}/jaas.conf`) })).rejects.toThrow(/no JAAS section named 'ZkServer'/);
    await expect(startInProc({ security: security('', `-Djava.security.auth.login.config=${dir}/missing.conf`) })).rejects.toThrow(/cannot read .*missing\.conf: ENOENT/);
    srv = undefined as unknown as InProcServer;
  });
});
