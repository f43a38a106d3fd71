/**
 * zkCli.sh with SASL DIGEST-MD5 (-Djava.security.auth.login.config, a JAAS `Client` section) against
 * zabkeeper and Apache ZooKeeper 3.8 given the same zoo.cfg and the same JAAS `Server` file as a
 * -D flag; then enforce.auth.schemes=sasl. Both servers must print the same transcripts, and
 * `zabkeeper shell` (JAAS from CLIENT_JVMFLAGS or from its -client-configuration file) must print
 * zkCli's. Our client's `sasl` option logs in to both servers, and again after its connection is cut;
 * kazoo's sasl_options (pure-sasl DIGEST-MD5) gets the same results from both.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compatTargets, isEnsemble, startServer, zabkeeperCli, type TestServer, type TargetKind } from '../harness/servers';
import { startProxy } from '../harness/proxy';
import { run } from '../shell/helpers';
import { AuthFailedError, createClient, type ConnectionState } from '../../src/client';
import { bashArgs, runZkCli, sortWhoAmI } from './zkcli';
import { runPython, scenario } from './pyrun';

const TARGETS = compatTargets().filter((k) => !isEnsemble(k));
const SASL_PROVIDER = 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider';

/**
 * zkCli lines that matter (logging and banners dropped): command output, then the watcher events.
 * Races inside zkCli, each seen under load, are left out: events come from its event thread and
 * command output from its main thread, so their interleaving varies (each stream keeps its own
 * order); after the server ends a session zkCli may reconnect before `quit` (a repeated
 * SyncConnected) or not; and `quit` exits the JVM at once, so its Disconnected/Closed may not be
 * printed at all.
 */
function transcript(raw: string): string[] {
  const lines = raw
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '' && !/^(Connecting to|Welcome to ZooKeeper|JLine support|WATCHER::|SLF4J|log4j|\s+at |Exception in thread)/.test(l));
  const isEvent = (l: string) => l.startsWith('WatchedEvent ');
  const events = lines.filter((l) => isEvent(l) && !/state:(Disconnected|Closed) /.test(l)).filter((l, i, all) => l !== all[i - 1]);
  return [...lines.filter((l) => !isEvent(l)), ...events];
}

let dir: string;
const jaas = (name: string, text: string): string => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-sasl-compat-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function withServer<T>(kind: TargetKind, extraCfg: Record<string, string>, body: (s: TestServer) => Promise<T>): Promise<T> {
  const serverJaas = jaas('server.conf', 'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_bob="bobsecret";\n};\n');
  const server = await startServer(kind, { extraCfg: { 'authProvider.1': SASL_PROVIDER, ...extraCfg }, jvmFlags: [`-Djava.security.auth.login.config=${serverJaas}`] });
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}

/** `zabkeeper shell` fed the commands on stdin, stdout and stderr merged, with zkCli's environment variable. */
async function runOurShell(connectString: string, commands: string[], clientJvmFlags = '', extra: string[] = []): Promise<string> {
  const r = await run('bash', bashArgs('exec "$0" "$1" shell -server "$2" "${@:3}" 2>&1', process.execPath, zabkeeperCli(), connectString, ...extra), commands.join('\n') + '\n', { CLIENT_JVMFLAGS: clientJvmFlags });
  return r.stdout;
}

/** Our client with a SASL login: its ids, then again after every connection was cut. */
async function ourClient(connectString: string): Promise<{ ids: string[]; afterCut: string[]; states: ConnectionState[]; wrong: string }> {
  const [host, port] = connectString.split(':');
  const proxy = await startProxy(Number(port), host);
  const states: ConnectionState[] = [];
  const zk = await createClient(`127.0.0.1:${proxy.port}`, { sasl: { username: 'bob', password: 'bobsecret' } });
  try {
    zk.on('state', (s) => states.push(s));
    const ids = async () => (await zk.whoAmI()).map((i) => `${i.authScheme}:${i.user}`).sort();
    const before = await ids();
    await zk.create('/ours', 'mine', { acl: [{ perms: 31, id: { scheme: 'sasl', id: 'bob' } }] });
    const { watch } = await zk.getData('/ours', { watch: true });
    const back = new Promise<void>((resolve) => zk.on('state', (s) => s === 'reconnected' && resolve()));
    proxy.cutAll();
    await back;
    // The re-armed watch and the ACL both need the login to have happened before anything else.
    await zk.setData('/ours', 'again');
    await watch;
    const afterCut = await ids();
    const wrong = await createClient(connectString, { sasl: { username: 'bob', password: 'guess' } }).then(
      async (c) => {
        await c.close();
        return 'connected';
      },
      (err: Error) => `${err instanceof AuthFailedError ? 'AuthFailedError' : err.name}: ${err.message}`,
    );
    return { ids: before, afterCut, states: [...states], wrong };
  } finally {
    await zk.close();
    await proxy.close();
  }
}

const clientJaas = (password: string) => `-Djava.security.auth.login.config=${jaas(`client-${password}.conf`, `Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  username="bob"\n  password="${password}";\n};\n`)}`;

describe.each(TARGETS)('zkCli.sh with SASL DIGEST-MD5 against %s', (kind) => {
  const out: Record<string, string[]> = {};
  let client: Awaited<ReturnType<typeof ourClient>>;
  const kazoo: Record<string, unknown> = {};

  beforeAll(async () => {
    await withServer(kind, {}, async (s) => {
      out.bob = transcript(await runZkCli(s.connectString, ['whoami', 'create /sasl-bob x sasl:bob:cdrwa', 'get /sasl-bob', 'getAcl /sasl-bob', 'quit'], 60_000, clientJaas('bobsecret')));
      out.anon = transcript(await runZkCli(s.connectString, ['whoami', 'get /sasl-bob', 'quit']));
      out.wrong = transcript(await runZkCli(s.connectString, ['get /sasl-bob', 'quit'], 60_000, clientJaas('guess')));
      // zabkeeper shell, the JAAS file as a -D flag in CLIENT_JVMFLAGS and then in its -client-configuration file.
      const viaFile = path.join(dir, 'client-config.properties');
      fs.writeFileSync(viaFile, `${clientJaas('bobsecret').replace(/^-D/, '')}\nzookeeper.sasl.clientconfig=Client\n`);
      const ours = ['whoami', 'get /sasl-bob', 'getAcl /sasl-bob', 'quit'];
      out.shellBob = transcript(await runOurShell(s.connectString, ours, clientJaas('bobsecret')));
      out.shellBobFile = transcript(await runOurShell(s.connectString, ours, '', ['-client-configuration', viaFile]));
      out.zkCliBobRead = transcript(await runZkCli(s.connectString, ours, 60_000, clientJaas('bobsecret')));
      out.shellWrong = transcript(await runOurShell(s.connectString, ['get /sasl-bob', 'quit'], clientJaas('guess')));
      client = await ourClient(s.connectString);
      const k = await runPython('kazoo_sasl.py', [s.connectString, '/kazoo-sasl']);
      for (const name of ['login', 'anonymous', 'wrong_password']) {
        const { scenario: _, ...rest } = scenario(k, name);
        kazoo[name] = rest;
      }
    });
    await withServer(kind, { 'enforce.auth.enabled': 'true', 'enforce.auth.schemes': 'sasl' }, async (s) => {
      out.enforcedBob = transcript(await runZkCli(s.connectString, ['ls /', 'quit'], 60_000, clientJaas('bobsecret')));
      out.enforcedAnon = transcript(await runZkCli(s.connectString, ['ls /', 'quit']));
    });
  }, 240_000);

  test('a JAAS Client login authenticates as sasl:bob, usable in ACLs', () => {
    expect(sortWhoAmI(out.bob)).toEqual([
      'Auth scheme: User',
      'ip: 127.0.0.1',
      'sasl: bob',
      'Created /sasl-bob',
      'x',
      "'sasl,'bob",
      ': cdrwa',
      'WatchedEvent state:SyncConnected type:None path:null',
      'WatchedEvent state:SaslAuthenticated type:None path:null',
    ]);
  });

  test('without a login the node is unreadable', () => {
    expect(out.anon).toEqual(expect.arrayContaining(['Auth scheme: User', 'ip: 127.0.0.1', 'Insufficient permission : /sasl-bob']));
    expect(out.anon.join('\n')).not.toContain('sasl: bob');
  });

  test('a wrong password is an AuthFailed event and no access', () => {
    expect(out.wrong).toEqual(['KeeperErrorCode = AuthFailed for /sasl-bob', 'WatchedEvent state:SyncConnected type:None path:null', 'WatchedEvent state:AuthFailed type:None path:null']);
  });

  test('enforce.auth.schemes=sasl: the logged-in client works, the anonymous one is refused (-124)', () => {
    expect(out.enforcedBob).toEqual(['[zookeeper]', 'WatchedEvent state:SyncConnected type:None path:null', 'WatchedEvent state:SaslAuthenticated type:None path:null']);
    expect(out.enforcedAnon).toEqual(['KeeperErrorCode = Session closed because client failed to authenticate for /', 'WatchedEvent state:SyncConnected type:None path:null']);
  });

  test('zabkeeper shell prints what zkCli prints, with the JAAS file in CLIENT_JVMFLAGS or in -client-configuration', () => {
    expect(sortWhoAmI(out.shellBob)).toEqual(sortWhoAmI(out.zkCliBobRead));
    expect(sortWhoAmI(out.shellBobFile)).toEqual(sortWhoAmI(out.zkCliBobRead));
    expect(out.zkCliBobRead).toContain('sasl: bob');
    expect(out.shellWrong).toEqual(out.wrong);
  });

  test('createClient with sasl: sasl:bob, again after the connection is cut; a wrong password is AuthFailedError', () => {
    expect(client.ids).toEqual(['ip:127.0.0.1', 'sasl:bob']);
    expect(client.afterCut).toEqual(['ip:127.0.0.1', 'sasl:bob']);
    expect(client.states).toEqual(['suspended', 'reconnected']);
    expect(client.wrong).toBe('AuthFailedError: SASL DIGEST-MD5 login as bob refused by the server (wrong password or unknown user)');
  });

  test('kazoo with sasl_options DIGEST-MD5: sasl:bob in ACLs; anonymous is NoAuth; after a wrong password every request is AuthFailed', () => {
    expect(kazoo.login).toEqual({ data: 'kazoo', acl: ['sasl:bob:31'] });
    expect(kazoo.anonymous).toEqual({ read: 'NoAuthError' });
    // kazoo's start() returns once the session is AUTH_FAILED; its requests then fail.
    expect(kazoo.wrong_password).toEqual({ start: 'connected', read: 'AuthFailedError' });
  });

  afterAll(() => {
    // The transcripts, for the report and for comparing targets by eye when a test fails.
    fs.writeFileSync(path.join(os.tmpdir(), `zk-sasl-transcripts-${process.pid}-${kind}.json`), JSON.stringify({ ...out, client, kazoo }, null, 1));
  });
});

describe('both servers print the same transcripts', () => {
  afterAll(() => {
    for (const k of TARGETS) fs.rmSync(path.join(os.tmpdir(), `zk-sasl-transcripts-${process.pid}-${k}.json`), { force: true });
  });
  test.each(['bob', 'anon', 'wrong', 'enforcedBob', 'enforcedAnon', 'kazoo'])('%s', (name) => {
    const files = TARGETS.map((k) => path.join(os.tmpdir(), `zk-sasl-transcripts-${process.pid}-${k}.json`)).filter((f) => fs.existsSync(f));
    if (files.length < 2) return;
    // zkCli transcripts (whoami's ids sorted) and kazoo's results; session ids and ports never appear in them.
    const [a, b] = files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8'))[name] as string[] | Record<string, unknown>);
    const norm = (v: string[] | Record<string, unknown> | undefined) => (Array.isArray(v) ? sortWhoAmI(v) : v);
    expect(norm(a)).toEqual(norm(b));
  });
});
