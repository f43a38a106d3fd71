/**
 * Proves the client's session behaviour through a TCP proxy that cuts connections: reconnect keeps
 * the session and re-arms watches (changes made while cut off fire exactly once), the client
 * declares `lost` on its own when the session timeout passes while cut off, a server-side expiry
 * also surfaces as `lost`, and a bad credential yields `authFailed` without losing the session.
 */
import { compatTargets } from '../harness/servers';
import { startProxy, type Proxy } from '../harness/proxy';
import { WireConnection } from '../../src/client/wire';
import { OpCode } from '../../protocol/jute/constants';
import { AuthFailedError, SessionExpiredError, type ConnectionState, type ZkClient } from '../../src/client';
import { ClientPool, eventually, nextState, sleep, startTarget, take, uniq } from './helpers';

describe.each(compatTargets())('sessions against %s', (kind) => {
  let srv: Awaited<ReturnType<typeof startTarget>>;
  let proxy: Proxy;
  const pool = new ClientPool();
  let direct: ZkClient;

  beforeAll(async () => {
    srv = await startTarget(kind);
    direct = await pool.open(srv.connectString);
  });
  beforeEach(async () => {
    proxy = await startProxy(srv.port);
  });
  afterEach(async () => {
    await proxy.close();
  });
  afterAll(async () => {
    await pool.closeAll();
    await srv?.stop();
  });

  const viaProxy = (opts = {}) => pool.open(`127.0.0.1:${proxy.port}`, { sessionTimeoutMs: 6000, ...opts });

  test('reconnect keeps the session; watches re-armed; no lost or duplicated events', async () => {
    const c = await viaProxy();
    const states: ConnectionState[] = [];
    c.on('state', (s) => states.push(s));
    const base = uniq();
    await direct.create(base, 'v0');
    await c.create(`${base}-eph`, null, { mode: 'ephemeral' });
    const data = await c.getData(base, { watch: true });
    const exist = await c.exists(`${base}/y`, { watch: true });
    const kids = await c.getChildren(base, { watch: true });
    const rec = await c.addWatch(base, { mode: 'persistentRecursive' });
    const sid = c.sessionId;

    proxy.pause();
    proxy.cutAll();
    await nextState(c, 'suspended');
    await direct.setData(base, 'v1');
    await direct.create(`${base}/y`);
    proxy.resume();
    await nextState(c, 'reconnected');
    expect(c.sessionId).toBe(sid);

    expect(await data.watch).toMatchObject({ type: 'nodeDataChanged', path: base });
    expect(await exist.watch).toMatchObject({ type: 'nodeCreated', path: `${base}/y` });
    expect(await kids.watch).toMatchObject({ type: 'nodeChildrenChanged', path: base });
    // The ephemeral survived: same session.
    expect((await direct.exists(`${base}-eph`)).stat?.ephemeralOwner).toBe(sid);

    await direct.setData(base, 'v2');
    const it = rec[Symbol.asyncIterator]();
    const evs = await take(it, 3);
    expect(evs.map((e) => `${e.type}:${e.state}`)).toEqual(['none:disconnected', 'none:syncConnected', 'nodeDataChanged:syncConnected']);
    // Nothing else queued: a marker write must be the very next event.
    await direct.setData(base, 'v3');
    expect((await take(it, 1))[0]).toMatchObject({ type: 'nodeDataChanged', path: base });
    // A fresh one-shot watch fires once for the next change.
    const again = await c.getData(base, { watch: true });
    await direct.setData(base, 'v4');
    expect((await again.watch).type).toBe('nodeDataChanged');
    expect(states).toEqual(['suspended', 'reconnected']);
    await rec.close();
    await c.close();
  });

  test('requests issued while disconnected wait for the reconnect', async () => {
    const c = await viaProxy();
    const base = uniq();
    proxy.pause();
    proxy.cutAll();
    await nextState(c, 'suspended');
    const pending = c.create(base, 'queued');
    proxy.resume();
    expect((await pending).path).toBe(base);
    await c.close();
  });

  test('client-side lost after the session timeout while cut off; then a new session', async () => {
    const c = await viaProxy({ sessionTimeoutMs: 3000 });
    const base = uniq();
    await c.create(base, null, { mode: 'ephemeral' });
    const w = await c.getData(base, { watch: true });
    const sid = c.sessionId;
    proxy.pause();
    proxy.cutAll();
    await nextState(c, 'suspended');
    const waiting = c.getData(base).then(
      () => 'ok',
      (e: unknown) => e,
    );
    await nextState(c, 'lost');
    expect(await waiting).toBeInstanceOf(SessionExpiredError);
    expect(await w.watch).toMatchObject({ type: 'none', state: 'expired', path: base });
    // The server expires the session on its own; its ephemeral goes.
    await eventually(async () => (await direct.exists(base)).stat === null);
    proxy.resume();
    await nextState(c, 'reconnected');
    expect(c.sessionId).not.toBe(sid);
    expect(c.sessionId).not.toBe(0n);
    await c.create(base, null, { mode: 'ephemeral' });
    await c.close();
  });

  test('server-side expiry surfaces as lost (expired)', async () => {
    const c = await viaProxy({ sessionTimeoutMs: 10_000 });
    const sid = c.sessionId;
    const passwd = c.sessionPasswd;
    proxy.pause();
    proxy.cutAll();
    await nextState(c, 'suspended');
    // Close the session behind the client's back from another connection.
    const raw = await WireConnection.connect({ host: '127.0.0.1', port: srv.port, sessionId: sid, passwd, sessionTimeoutMs: 10_000 });
    expect(raw.session.sessionId).toBe(sid);
    await raw.request(OpCode.closeSession).catch(() => undefined);
    raw.close();
    const lost = nextState(c, 'lost');
    proxy.resume();
    await lost;
    await nextState(c, 'reconnected');
    expect(c.sessionId).not.toBe(sid);
    await c.close();
  });

  test('a bad credential: AuthFailedError and authFailed, then the session carries on', async () => {
    const c = await viaProxy();
    const sid = c.sessionId;
    const states = c.states();
    await expect(c.addAuth('nosuchscheme', 'x')).rejects.toBeInstanceOf(AuthFailedError);
    // The server closes the connection after a failed auth; the client reconnects, same session.
    expect(await take(states, 3)).toEqual(['authFailed', 'suspended', 'reconnected']);
    await c.getData('/');
    expect(c.sessionId).toBe(sid);
    await c.close();
  });

  test('pings keep an idle session alive well past its timeout', async () => {
    const c = await viaProxy({ sessionTimeoutMs: 2000 });
    const base = uniq();
    await c.create(base, null, { mode: 'ephemeral' });
    const sid = c.sessionId;
    await sleep(3 * c.sessionTimeoutMs);
    expect(c.sessionId).toBe(sid);
    expect((await direct.exists(base)).stat?.ephemeralOwner).toBe(sid);
    await c.close();
  });
});
