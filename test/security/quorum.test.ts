import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ErrorCode } from '../../protocol/jute/constants';
import { encodeFrame } from '../../protocol/peer';
import { Packr } from 'msgpackr';
import { parseJvmFlags, parseZooCfg, type SecurityConfig } from '../../src/config';
import { startInProcEnsemble, type InProcEnsemble } from '../harness/ensemble';
import { until } from '../harness/wait';
import { createClient, NodeExistsError, RetryForever, RetryNTimes, ZkError, type ZkClient } from '../../src/client';
import { makePki, type Pki } from './pki';

/**
 * The peer port rejects forgeries: a forged FOLLOWERINFO with epoch 0xffffffff drops its link and
 * wedges nobody, forged ACKs drop theirs and commit nothing; with quorum auth (JAAS QuorumServer/QuorumLearner) an impostor or a member with the
 * wrong secret cannot join (each refusal logged as such) and a forged forwarded write never lands;
 * ZooKeeper's rolling path to quorum auth works while the ensemble serves; with sslQuorum a member
 * with an untrusted certificate cannot join (logged as untrusted), the ensemble survives a leader
 * kill, and portUnification gives the rolling path from plaintext to TLS.
 */

let dir: string;
let pki: Pki;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-quorum-sec-'));
  pki = makePki();
  fs.writeFileSync(path.join(dir, 'jaas.conf'), 'QuorumServer {\n org.apache.zookeeper.server.auth.DigestLoginModule required user_zk="quorum-secret";\n};\nQuorumLearner {\n org.apache.zookeeper.server.auth.DigestLoginModule required username="zk" password="quorum-secret";\n};\n');
  // A member configured with another secret, in both of its sections.
  fs.writeFileSync(path.join(dir, 'wrong.conf'), 'QuorumServer {\n org.apache.zookeeper.server.auth.DigestLoginModule required user_zk="guess";\n};\nQuorumLearner {\n org.apache.zookeeper.server.auth.DigestLoginModule required username="zk" password="guess";\n};\n');
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  pki.remove();
});

function security(lines: string, jaas?: string): SecurityConfig {
  const r = parseZooCfg(`dataDir=/unused\nclientPort=1\n${lines}`, { jvmFlags: parseJvmFlags(jaas ? `-Djava.security.auth.login.config=${jaas}` : '', 'SERVER_JVMFLAGS') });
  const errors = r.issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e) => e.message).join('\n'));
  return r.config.security;
}

const QUORUM_AUTH = 'quorum.auth.enableSasl=true\nquorum.auth.learnerRequireSasl=true\nquorum.auth.serverRequireSasl=true\n';
const sslQuorum = (keyStore = pki.server.pem) =>
  `sslQuorum=true\nssl.quorum.keyStore.location=${keyStore}\nssl.quorum.trustStore.location=${pki.ca}\nssl.quorum.hostnameVerification=true\n`;

/** Writes `bytes` to a member's peer port; resolves true once the member closes the link. */
function sendToPeerPort(port: number, bytes: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(bytes));
    s.on('error', () => undefined);
    // Read what the member says (a challenge), so its close is seen.
    s.on('data', () => undefined);
    const timer = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 5000);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function hello(magic: number, id: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(magic, 0);
  b.writeInt32BE(id, 4);
  return b;
}

/** A peer frame with fields we choose, even ones our encoder would never write. */
function rawFrame(fields: unknown[]): Buffer {
  const body = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true }).pack(fields);
  const f = Buffer.alloc(5 + body.length);
  f.writeInt32BE(body.length + 1, 0);
  f.writeUInt8(1, 4);
  body.copy(f, 5);
  return f;
}

/**
 * A client of member i alone. On a loaded machine a member can lose its quorum for a moment (the
 * limits are tenths of a second here) and drop its clients; the client reconnects to the same
 * member and retries, so the helpers still prove that this member serves.
 */
async function onMember<T>(ens: InProcEnsemble, i: number, op: (zk: ZkClient) => Promise<T>): Promise<T> {
  const zk = await createClient(`127.0.0.1:${ens.clientPorts[i]!}`, { connectTimeoutMs: 20_000, retryPolicy: new RetryNTimes(50, 100) });
  try {
    return await op(zk);
  } finally {
    await zk.close();
  }
}

async function write(ens: InProcEnsemble, i: number, path: string): Promise<number> {
  return onMember(ens, i, async (zk) => {
    try {
      await zk.create(path, 'v');
      return ErrorCode.ok;
    } catch (err) {
      // A retry after a lost reply finds the node the first attempt created.
      if (err instanceof NodeExistsError) return ErrorCode.ok;
      if (err instanceof ZkError) return err.code;
      throw err;
    }
  });
}

async function exists(ens: InProcEnsemble, i: number, path: string): Promise<boolean> {
  return onMember(ens, i, async (zk) => (await zk.exists(path)).stat !== null);
}

/**
 * Waits until every other member has refused `outsider` on a link between them, whichever side
 * dialled (the acceptor logs 'rejected peer connection', a dialer 'peer handshake failed' or
 * 'peer certificate not trusted' naming the peer), each refusal's reason matching `why`.
 */
async function refusedByAll(ens: InProcEnsemble, outsider: number, why: RegExp, from: number): Promise<void> {
  const outsiderId = outsider + 1;
  for (let m = 1; m <= 3; m++) {
    if (m === outsiderId) continue;
    const pair = outsiderId > m ? { dialer: outsiderId, acceptor: m } : { dialer: m, acceptor: outsiderId };
    await ens.waitLog(
      (r) => ens.logs.indexOf(r) >= from && why.test(String(r.err)) && ((r.server === pair.acceptor && r.msg === 'rejected peer connection') || (r.server === pair.dialer && r.peer === pair.acceptor) || (r.server === m && r.msg === 'rejected peer connection')),
      `member ${m} and member ${outsiderId} refusing each other (${why})`,
    );
  }
}

/** Member i's peer port and the id of a real member that may dial it (a larger id). */
function impersonation(ens: InProcEnsemble, i: number): { port: number; as: number } {
  const servers = ens.options[i]!.ensemble!.servers;
  return { port: servers[i]!.quorumPort, as: servers[servers.length - 1]!.id };
}

describe('peer port without quorum auth', () => {
  test('a forged FOLLOWERINFO with epoch 0xffffffff drops that link; the ensemble serves and restarts cleanly', async () => {
    const ens = await startInProcEnsemble(3);
    try {
      await ens.waitServing();
      for (const i of [0, 1]) {
        const { port, as } = impersonation(ens, i);
        expect(await sendToPeerPort(port, Buffer.concat([hello(0x5a424b50, as), rawFrame([2, 0xffffffff, 1n])]))).toBe(true);
      }
      await ens.waitServing();
      expect(await write(ens, 0, '/after-forgery')).toBe(ErrorCode.ok);
      // Nothing reached durable state: every member restarts from disk and rejoins.
      for (let i = 0; i < 3; i++) await ens.stop(i);
      for (let i = 0; i < 3; i++) await ens.start(i);
      await ens.waitServing();
      expect(await exists(ens, 1, '/after-forgery')).toBe(true);
    } finally {
      await ens.close();
    }
  });
  test('forged ACKs from an impostor claiming a stopped member drop that link and commit nothing; the member rejoins', async () => {
    const ens = await startInProcEnsemble(3, {}, { captureLogs: true });
    try {
      await ens.waitServing();
      // Member 3 is down: an ACK counted for it would make a quorum of the leader and a forger.
      await ens.stop(2);
      const leader = await ens.waitServing();
      const port = ens.options[leader]!.ensemble!.servers[leader]!.quorumPort;
      const from = ens.logs.length;
      const applied = ens.servers[leader]!.lastZxid();
      const ahead = (BigInt(0xfffffffe) << 32n) | 5n;
      // A bare ACK, then one after a FOLLOWERINFO (before any NEWLEADER): each drops the link.
      expect(await sendToPeerPort(port, Buffer.concat([hello(0x5a424b50, 3), rawFrame([12, ahead, false])]))).toBe(true);
      expect(await sendToPeerPort(port, Buffer.concat([hello(0x5a424b50, 3), rawFrame([2, 0, 0n]), rawFrame([12, ahead, false])]))).toBe(true);
      for (const why of [/ACK from an unknown learner/, /ACK before NEWLEADER ACK/]) {
        await ens.waitLog((r) => ens.logs.indexOf(r) >= from && r.server === leader + 1 && r.msg === 'peer protocol violation' && why.test(String(r.error)), `the leader logging ${why}`);
      }
      expect(ens.servers[leader]!.lastZxid()).toBe(applied);
      expect(await write(ens, leader, '/after-forged-acks')).toBe(ErrorCode.ok);
      await ens.start(2);
      await until(() => exists(ens, 2, '/after-forged-acks'), 'member 3 back with the write');
    } finally {
      await ens.close();
    }
  });
});

describe('quorum authentication (quorum.auth.* with JAAS QuorumServer/QuorumLearner)', () => {
  test('impostors are refused, a forged forwarded write claiming super never lands, a wrong secret cannot join', async () => {
    const ens = await startInProcEnsemble(3, { security: security(QUORUM_AUTH, path.join(dir, 'jaas.conf')) }, { captureLogs: true });
    try {
      const leader = await ens.waitServing();
      expect(await write(ens, (leader + 1) % 3, '/via-follower')).toBe(ErrorCode.ok);
      const victim = leader === 2 ? 0 : leader;
      const { port, as } = impersonation(ens, victim);
      // A plain hello, then a forwarded write carrying the super identity: refused at the hello.
      const forward = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true }).pack({ kind: 'write', sessionId: 1n, cxid: 1, opCode: 1, body: Buffer.alloc(0), authIds: [{ scheme: 'super', id: '' }] });
      expect(await sendToPeerPort(port, Buffer.concat([hello(0x5a424b50, as), encodeFrame({ type: 'request', data: forward })]))).toBe(true);
      // An authenticated hello whose proof is garbage.
      const user = Buffer.from('zk');
      const len = Buffer.alloc(2);
      len.writeUInt16BE(user.length);
      expect(await sendToPeerPort(port, Buffer.concat([hello(0x5a424b41, as), Buffer.alloc(16, 7), len, user, Buffer.alloc(32, 1)]))).toBe(true);
      await ens.waitServing();
      expect(await write(ens, victim, '/still-serving')).toBe(ErrorCode.ok);
      // A member with another secret cannot join; the other two keep serving.
      const outsider = leader === 2 ? 1 : 2;
      await ens.stop(outsider);
      ens.options[outsider] = { ...ens.options[outsider]!, security: security(QUORUM_AUTH, path.join(dir, 'wrong.conf')) };
      const from = ens.logs.length;
      await ens.start(outsider);
      await refusedByAll(ens, outsider, /failed to prove the quorum credentials|wrong quorum password/, from);
      expect(ens.servers[outsider]!.isServing).toBe(false);
      expect(await write(ens, leader, '/without-outsider')).toBe(ErrorCode.ok);
    } finally {
      await ens.close();
    }
  });
});

describe('rolling switch to quorum auth (ZooKeeper\'s steps)', () => {
  test('enableSasl, then learnerRequireSasl, then serverRequireSasl, member by member, while a client keeps writing; then impostors are refused', async () => {
    const jaas = path.join(dir, 'jaas.conf');
    // Sessions outlive a member's restart and the election after it, however slow the machine.
    const ens = await startInProcEnsemble(3, { maxSessionTimeoutMs: 30_000 }, { captureLogs: true });
    const acked: string[] = [];
    let stop = false;
    const zk = await createClient(ens.connectString, { sessionTimeoutMs: 10_000, retryPolicy: new RetryForever(50) });
    // The writer: sequential creates, protected against lost replies; each acknowledged path is kept.
    const writer = (async () => {
      while (!stop) acked.push((await zk.create('/rolling/w-', 'x', { mode: 'persistentSequential', createParents: true })).path);
    })();
    try {
      await ens.waitServing();
      const steps = [
        'quorum.auth.enableSasl=true\n',
        'quorum.auth.enableSasl=true\nquorum.auth.learnerRequireSasl=true\n',
        'quorum.auth.enableSasl=true\nquorum.auth.learnerRequireSasl=true\nquorum.auth.serverRequireSasl=true\n',
      ];
      for (const lines of steps) {
        // Highest id first: it dials the others, which do not know the new setting yet.
        for (const i of [2, 1, 0]) {
          await ens.stop(i);
          ens.options[i] = { ...ens.options[i]!, security: security(lines, jaas) };
          await ens.start(i);
          await ens.waitServing();
          // The client is served in every mixed state: its next write after this restart lands.
          const before = acked.length;
          await until(() => acked.length > before, `a write acknowledged after restarting member ${i + 1} with ${lines.trim().replace(/\n/g, ', ')}`, 20_000);
        }
      }
      // Every link is now authenticated, and a plain hello is refused.
      const { port, as } = impersonation(ens, 0);
      const from = ens.logs.length;
      expect(await sendToPeerPort(port, hello(0x5a424b50, as))).toBe(true);
      await ens.waitLog((r) => ens.logs.indexOf(r) >= from && r.server === 1 && /did not authenticate and quorum.auth.serverRequireSasl is on/.test(String(r.err)), 'member 1 refusing a plain hello');
      expect(ens.logs.some((r) => r.msg === 'quorum peer authenticated')).toBe(true);
      // Nothing acknowledged was lost across nine restarts.
      stop = true;
      const { children } = await zk.getChildren('/rolling', { signal: AbortSignal.timeout(20_000) });
      expect(acked.filter((p) => !children.includes(p.slice('/rolling/'.length)))).toEqual([]);
    } finally {
      stop = true;
      await zk.close(); // ends a write still retrying
      await writer.catch(() => undefined);
      await ens.close();
    }
  }, 120_000);
});

describe('sslQuorum', () => {
  test('members talk TLS with mutual authentication; the ensemble survives a leader kill; a member with an untrusted certificate cannot join', async () => {
    const ens = await startInProcEnsemble(3, { security: security(sslQuorum() + QUORUM_AUTH, path.join(dir, 'jaas.conf')) }, { captureLogs: true });
    try {
      const leader = await ens.waitServing();
      expect(await write(ens, (leader + 1) % 3, '/tls-before')).toBe(ErrorCode.ok);
      // Plaintext is refused outright on a TLS-only peer port.
      const { port, as } = impersonation(ens, leader === 2 ? 0 : leader);
      expect(await sendToPeerPort(port, hello(0x5a424b50, as))).toBe(true);
      await ens.stop(leader);
      const next = await ens.waitServing();
      expect(next).not.toBe(leader);
      expect(await exists(ens, next, '/tls-before')).toBe(true);
      expect(await write(ens, next, '/tls-after')).toBe(ErrorCode.ok);
      // The old leader comes back with a certificate from a CA nobody trusts: it cannot join.
      ens.options[leader] = { ...ens.options[leader]!, security: security(sslQuorum(pki.rogue.pem) + QUORUM_AUTH, path.join(dir, 'jaas.conf')) };
      const from = ens.logs.length;
      await ens.start(leader);
      await refusedByAll(ens, leader, /not trusted|UNABLE_TO_VERIFY|SELF_SIGNED/, from);
      expect(ens.logs.slice(from).some((r) => /timed out/.test(String(r.err)))).toBe(false);
      expect(ens.servers[leader]!.isServing).toBe(false);
      expect(await write(ens, next, '/tls-still')).toBe(ErrorCode.ok);
    } finally {
      await ens.close();
    }
  });

  test('rolling switch: portUnification everywhere, then sslQuorum one member at a time, then portUnification off', async () => {
    const unified = `portUnification=true\nssl.quorum.keyStore.location=${pki.server.pem}\nssl.quorum.trustStore.location=${pki.ca}\n`;
    const ens = await startInProcEnsemble(3, { security: security(unified) });
    try {
      await ens.waitServing();
      const steps = [`${unified}sslQuorum=true\n`, sslQuorum()];
      for (const [s, lines] of steps.entries()) {
        for (let i = 0; i < 3; i++) {
          await ens.stop(i);
          ens.options[i] = { ...ens.options[i]!, security: security(lines) };
          await ens.start(i);
          await ens.waitServing();
          expect(await write(ens, i, `/rolling-${s}-${i}`)).toBe(ErrorCode.ok);
        }
      }
    } finally {
      await ens.close();
    }
  });
});
