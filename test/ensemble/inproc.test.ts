import net from 'node:net';
import { CreateFlags, ErrorCode, OpCode } from '../../protocol/jute/constants';
import { WireClosedError, WireConnection } from '../../src/client/wire';
import { requests as rq } from '../../src/client/requests';
import { createSurely, startInProcEnsemble, type InProcEnsemble } from '../harness/ensemble';
import { writeSyncRequest } from '../../protocol/jute/records';
import { fourLetter } from '../harness/cli';

const connect = (port: number, o: Partial<Parameters<typeof WireConnection.connect>[0]> = {}) =>
  WireConnection.connect({ host: '127.0.0.1', port, sessionTimeoutMs: 6000, ...o });

async function sync(c: WireConnection, path: string): Promise<void> {
  const r = await c.request(OpCode.sync, (w) => writeSyncRequest(w, { path }));
  expect(r.err).toBe(0);
}

describe('3-server ensemble in one process', () => {
  let ens: InProcEnsemble;
  beforeAll(async () => {
    ens = await startInProcEnsemble(3);
  });
  afterAll(async () => {
    await ens.close();
  });

  test('elects one leader; writes through any server are visible everywhere', async () => {
    const leader = await ens.waitServing();
    const follower = (leader + 1) % 3;
    const c = await connect(ens.clientPorts[follower]);
    const created = await rq.create(c, '/via-follower', Buffer.from('x'));
    expect(created.err).toBe(ErrorCode.ok);
    const seq = await rq.create(c, '/via-follower/s-', null, CreateFlags.persistentSequential);
    expect(seq.body!.path).toBe('/via-follower/s-0000000000');
    const other = await connect(ens.clientPorts[(leader + 2) % 3]);
    await sync(other, '/via-follower');
    expect((await rq.getData(other, '/via-follower')).body!.data!.toString()).toBe('x');
    const l = await connect(ens.clientPorts[leader]);
    expect((await rq.exists(l, '/via-follower/s-0000000000')).err).toBe(ErrorCode.ok);
    c.close();
    other.close();
    l.close();
  });

  test('garbage on a peer port is refused and the ensemble keeps serving', async () => {
    const leader = await ens.waitServing();
    const target = ens.options[leader].ensemble!.servers[leader];
    const send = (bytes: Buffer) =>
      new Promise<boolean>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port: target.quorumPort }, () => s.write(bytes));
        s.on('error', () => undefined);
        s.on('close', () => resolve(true));
        setTimeout(() => {
          s.destroy();
          resolve(false);
        }, 3000);
      });
    const hello = (magic: number, id: number) => {
      const b = Buffer.alloc(8);
      b.writeUInt32BE(magic, 0);
      b.writeInt32BE(id, 4);
      return b;
    };
    expect(await send(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toBe(true); // wrong magic
    expect(await send(hello(0x5a424b50, 99))).toBe(true); // not a member
    expect(await send(hello(0x5a424b50, -1))).toBe(true);
    const c = await connect(ens.clientPorts[(leader + 1) % 3]);
    expect((await rq.create(c, '/after-garbage', null)).err).toBe(ErrorCode.ok);
    c.close();
    expect(ens.leaderIndex()).toBe(leader);
  });

  test('the leader reports its synced followers in mntr; members report their role in srvr', async () => {
    const leader = await ens.waitServing();
    const mntr = await fourLetter(ens.clientPorts[leader], 'mntr');
    expect(mntr).toMatch(/^zk_server_state\tleader$/m);
    expect(mntr).toMatch(/^zk_synced_followers\t2$/m);
    expect(mntr).toMatch(/^zk_learners\t2$/m);
    expect(mntr).toMatch(/^zk_pending_syncs\t0$/m);
    expect(mntr).toMatch(/^zk_peer_state\tleading - broadcast$/m);
    expect(await fourLetter(ens.clientPorts[(leader + 1) % 3], 'srvr')).toMatch(/^Mode: follower$/m);
  });

  test('ephemerals of a session created on a follower vanish everywhere when it closes', async () => {
    const leader = await ens.waitServing();
    const f = await connect(ens.clientPorts[(leader + 1) % 3]);
    await rq.create(f, '/eph-f', null, CreateFlags.ephemeral);
    await f.request(OpCode.closeSession);
    f.close();
    const l = await connect(ens.clientPorts[leader]);
    await sync(l, '/');
    expect((await rq.exists(l, '/eph-f')).err).toBe(ErrorCode.noNode);
    l.close();
  });

  test.each([
    ['a follower', 1],
    ['the leader', 0],
  ])('a session resumed elsewhere: its old connection on %s is torn down unanswered (as ZooKeeper, ZOOKEEPER-710), the new one works', async (_, offset) => {
    const leader = await ens.waitServing();
    const a = (leader + offset) % 3;
    const b = (leader + 2) % 3;
    const oldConn = await connect(ens.clientPorts[a]);
    expect((await rq.create(oldConn, `/moved${offset}`, null)).err).toBe(ErrorCode.ok);
    const { sessionId, passwd } = oldConn.session;
    const newConn = await connect(ens.clientPorts[b], { sessionId, passwd: passwd! });
    expect(newConn.session.sessionId).toBe(sessionId);
    // Through the new server the session works (its claim reaches the leader before this write).
    expect((await rq.setData(newConn, `/moved${offset}`, Buffer.from('new'))).err).toBe(ErrorCode.ok);
    // The stale connection on the old server may no longer act for the session, and it is closed
    // rather than answered SessionMoved: its client sees ConnectionLoss and reconnects, which
    // claims the session again. A client kept on a connection that answers SessionMoved would
    // stay stuck there (its lock node could never be deleted: nemesis seed 5005's orphan).
    await expect(rq.setData(oldConn, `/moved${offset}`, Buffer.from('old'))).rejects.toThrow(WireClosedError);
    expect(oldConn.isClosed).toBe(true);
    await sync(newConn, `/moved${offset}`);
    expect((await rq.getData(newConn, `/moved${offset}`)).body!.data!.toString()).toBe('new');
    // Reconnecting to the old server takes the session back there: its writes work again.
    const back = await connect(ens.clientPorts[a], { sessionId, passwd: passwd! });
    expect((await rq.setData(back, `/moved${offset}`, Buffer.from('back'))).err).toBe(ErrorCode.ok);
    back.close();
    newConn.close();
  });

  test('leader failure: a new leader serves, the session moves, nothing acknowledged is lost', async () => {
    const leader = await ens.waitServing();
    const survivor = (leader + 1) % 3;
    const c = await connect(ens.clientPorts[survivor]);
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await rq.create(c, `/before-${i}`, null);
      expect(r.err).toBe(0);
      acked.push(`/before-${i}`);
    }
    const { sessionId, passwd } = c.session;
    await ens.stop(leader);
    c.close();
    const newLeader = await ens.waitServing();
    expect(newLeader).not.toBe(leader);
    const again = await connect(ens.clientPorts[survivor], { sessionId, passwd: passwd! });
    expect(again.session.sessionId).toBe(sessionId);
    for (const p of acked) expect((await rq.exists(again, p)).err).toBe(ErrorCode.ok);
    expect((await rq.create(again, '/after', null)).err).toBe(ErrorCode.ok);
    // The old leader comes back as a follower and catches up.
    await ens.start(leader);
    await ens.waitServing();
    const back = await connect(ens.clientPorts[leader]);
    await sync(back, '/');
    expect((await rq.exists(back, '/after')).err).toBe(ErrorCode.ok);
    // All three replay the same history (digests compare data, stats and ACLs).
    expect((await ens.convergedDigests()).size).toBe(1);
    back.close();
    again.close();
  });
});

describe('ensemble with frequent snapshots', () => {
  test('a follower far behind a compacted leader log is brought up to date (SNAP or DIFF)', async () => {
    const ens = await startInProcEnsemble(3, { snapCount: 40 });
    try {
      const leader = await ens.waitServing();
      const lagging = (leader + 1) % 3;
      await ens.stop(lagging);
      // Retried across a lost connection: with one member down, a stall on a loaded machine can
      // cost the leader its lease (and its clients) while it snapshots every few dozen txns.
      await createSurely(ens, '/far', null);
      for (let i = 0; i < 300; i++) await createSurely(ens, `/far/n${i}`, Buffer.from(String(i)));
      expect(ens.servers.some((s) => s && s.store.listSnapshots().length > 0)).toBe(true);
      await ens.start(lagging);
      await ens.waitServing();
      const f = await connect(ens.clientPorts[lagging]);
      await sync(f, '/far');
      expect((await rq.getChildren(f, '/far')).body!.children.length).toBe(300);
      f.close();
      expect((await ens.convergedDigests()).size).toBe(1);
    } finally {
      await ens.close();
    }
  });
});

describe('ensemble with an observer', () => {
  test('an observer serves reads and forwards writes but never votes', async () => {
    const ens = await startInProcEnsemble(4, {}, { observers: 1 });
    try {
      await ens.waitServing();
      const observer = ens.servers[3]!;
      expect(observer.mode).toBe('observer');
      const c = await connect(ens.clientPorts[3]);
      expect((await rq.create(c, '/from-observer', Buffer.from('o'))).err).toBe(ErrorCode.ok);
      const leader = ens.leaderIndex();
      expect(leader).toBeLessThan(3);
      const l = await connect(ens.clientPorts[leader]);
      await sync(l, '/');
      expect((await rq.getData(l, '/from-observer')).body!.data!.toString()).toBe('o');
      expect(await fourLetter(ens.clientPorts[3], 'srvr')).toMatch(/^Mode: observer$/m);
      c.close();
      l.close();
    } finally {
      await ens.close();
    }
  });
});
