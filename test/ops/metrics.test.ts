import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { ServerMetrics } from '../../src/metrics/hub';
import { loopLag } from '../../src/metrics/looplag';
import { CATALOG, ZABKEEPER_METRICS } from '../../src/metrics/catalog';
import { jacksonJson } from '../../src/admin/json';
import { Dbl } from '../../src/fourlw';
import { parseZooCfg } from '../../src/config';
import { PROMETHEUS_PROVIDER, defaultOperationsConfig } from '../../src/config/operations';
import { requests as rq } from '../../src/client/requests';
import { startInProc, type InProcServer } from '../harness/inproc';
import { httpGet, parseExposition } from './helpers';
import type { RoleEvent } from '../../src/quorum/core';

/**
 * The metrics bookkeeping (election, sync and unavailability times, peer RTT and ACK matching),
 * the metrics and admin zoo.cfg keys (failing closed), the Jackson JSON format, the AdminServer's
 * snapshot auth and bind rules, and that every exported metric is documented.
 */
const role = (r: RoleEvent['role'], phase: RoleEvent['phase']): RoleEvent => ({ role: r, phase, leader: r === 'looking' ? undefined : 1, epoch: 1, tick: 0 });

describe('ServerMetrics', () => {
  test('election, follower sync and unavailable times follow role events', () => {
    const m = new ServerMetrics(0);
    m.noteRole(role('looking', 'election'), 100);
    m.noteRole(role('following', 'discovery'), 350);
    m.noteRole(role('following', 'sync'), 400);
    m.noteRole(role('following', 'broadcast'), 460);
    expect([m.counters.looking_count, m.election_time.count, m.election_time.sum]).toEqual([1, 1, 250]);
    expect([m.follower_sync_time.count, m.follower_sync_time.sum]).toEqual([1, 60]);
    expect([m.unavailable_time.count, m.unavailable_time.sum]).toEqual([1, 460]);
    // The leader goes away: LOOKING again, then this member leads.
    m.noteRole(role('looking', 'election'), 1000);
    m.noteRole(role('leading', 'discovery'), 1100);
    m.noteRole(role('leading', 'broadcast'), 1300);
    expect([m.counters.looking_count, m.election_time.sum, m.unavailable_time.sum, m.leader_unavailable_time.sum]).toEqual([2, 350, 760, 300]);
    expect(m.follower_sync_time.count).toBe(1);
  });

  test('peer RTT and ACK latency match sends to echoes per peer; proposals are counted once per zxid', () => {
    const m = new ServerMetrics(0);
    m.notePeerSent(2, { type: 'ping', round: 7, echoed: 0 }, 10);
    m.notePeerSent(3, { type: 'ping', round: 7, echoed: 0 }, 10);
    m.notePeerReceived(2, { type: 'ping', round: 7, echoed: 0 }, 12.5);
    m.notePeerReceived(2, { type: 'ping', round: 7, echoed: 0 }, 99); // a duplicate echo is not matched twice
    m.notePeerReceived(3, { type: 'ping', round: 6, echoed: 0 }, 13); // an echo of nothing we timed
    for (const to of [2, 3]) m.notePeerSent(to, { type: 'proposal', zxid: 0x100000001n, data: Buffer.alloc(0) }, 20);
    m.notePeerReceived(3, { type: 'ack', zxid: 0x100000001n, newLeader: false }, 24);
    expect([...m.peer_rtt.byKey].map(([k, s]) => [k, s.count, s.sum])).toEqual([['2', 1, 2.5]]);
    expect([...m.ack_latency.byKey].map(([k, s]) => [k, s.count, s.sum])).toEqual([['3', 1, 4]]);
    expect(m.counters.proposal_count).toBe(1);
    m.notePeerReceived(1, { type: 'commit', zxid: 0x100000001n }, 0);
    expect(m.counters.learner_commit_received_count).toBe(1);
  });

  test('a cumulative ACK times its own zxid and forgets the batch before it; commit_count counts every zxid a COMMIT covers', () => {
    const m = new ServerMetrics(0);
    for (let c = 1; c <= 5; c++) m.notePeerSent(2, { type: 'proposal', zxid: 0x100000000n + BigInt(c), data: Buffer.alloc(0) }, 10 * c);
    m.notePeerReceived(2, { type: 'ack', zxid: 0x100000003n, newLeader: false }, 37);
    expect([...m.ack_latency.byKey].map(([k, s]) => [k, s.count, s.sum])).toEqual([['2', 1, 7]]);
    // 1 and 2 were covered by the ACK of 3: a late duplicate of theirs times nothing.
    m.notePeerReceived(2, { type: 'ack', zxid: 0x100000001n, newLeader: false }, 40);
    expect(m.ack_latency.byKey.get('2')!.count).toBe(1);
    m.notePeerReceived(2, { type: 'ack', zxid: 0x100000005n, newLeader: false }, 58);
    expect(m.ack_latency.byKey.get('2')!.sum).toBe(15);
    m.notePeerSent(2, { type: 'commit', zxid: 0x100000003n }, 60);
    m.notePeerSent(3, { type: 'commit', zxid: 0x100000003n }, 60);
    m.notePeerSent(2, { type: 'commit', zxid: 0x100000005n }, 61);
    expect(m.counters.commit_count).toBe(5);
    // A new epoch's first commit counts from its counter 1.
    m.notePeerSent(2, { type: 'commit', zxid: 0x200000002n }, 70);
    expect(m.counters.commit_count).toBe(7);
    // A learner counts the same way.
    m.notePeerReceived(1, { type: 'commit', zxid: 0x100000004n }, 80);
    m.notePeerReceived(1, { type: 'commit', zxid: 0x100000004n }, 81);
    m.notePeerReceived(1, { type: 'commit', zxid: 0x200000001n }, 82);
    expect(m.counters.learner_commit_received_count).toBe(5);
  });

  test('reply sizes and latencies split reads from writes', () => {
    const m = new ServerMetrics(0);
    m.noteReply(false, 3, 40);
    m.noteReply(true, 7, 16);
    expect([m.readlatency.count, m.updatelatency.sum]).toEqual([1, 7]);
    expect(m.clientResponse).toEqual({ last: 16, min: 16, max: 40 });
    expect(m.readlatency.mntrEntries()).toEqual([['avg_readlatency', 3], ['min_readlatency', 3], ['max_readlatency', 3], ['cnt_readlatency', 1], ['sum_readlatency', 3]]);
  });
});

describe('operations keys in zoo.cfg', () => {
  const parse = (extra: string) => parseZooCfg(`dataDir=/d\nclientPort=2181\n${extra}`);
  const errors = (extra: string) => parse(extra).issues.filter((i) => i.severity === 'error').map((i) => i.message);

  test('ZooKeeper\'s sample metrics lines and the AdminServer keys are read with ZooKeeper\'s defaults', () => {
    const { config, issues } = parse(`metricsProvider.className=${PROMETHEUS_PROVIDER}\nmetricsProvider.httpHost=0.0.0.0\nmetricsProvider.httpPort=7000\nmetricsProvider.exportJvmInfo=true\nadmin.serverPort=9090\nadmin.commandURL=/cmds/\nenforceQuota=true\n`);
    expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(config.operations.metrics).toEqual({ provider: 'prometheus', httpHost: '0.0.0.0', httpPort: 7000, exportJvmInfo: true });
    expect([config.operations.admin.port, config.operations.admin.commandUrl, config.operations.admin.address, config.operations.enforceQuota]).toEqual([9090, '/cmds', '127.0.0.1', true]);
    expect(parse('').config.operations).toEqual(defaultOperationsConfig());
  });

  test('an unknown provider class, HTTPS and client-certificate settings refuse to start', () => {
    expect(errors('metricsProvider.className=com.example.Provider\n')[0]).toMatch(/metrics provider class was not found/);
    expect(errors('admin.forceHttps=true\n')[0]).toMatch(/admin.forceHttps/);
    expect(errors('admin.portUnification=true\n')).toHaveLength(1);
    expect(errors('admin.needClientAuth=true\n')).toHaveLength(1);
    expect(errors('metricsProvider.httpsPort=7443\n')).toHaveLength(1);
    expect(errors('metricsProvider.ssl.keyStore.location=/k.jks\n')).toHaveLength(1);
    expect(errors('admin.forceHttps=false\nadmin.portUnification=false\n')).toEqual([]);
    expect(errors('admin.enableServer=yes\n')[0]).toMatch(/use 'true' or 'false'/);
    expect(errors('admin.serverPort=70000\n')).toHaveLength(1);
    expect(errors(`metricsProvider.className=${PROMETHEUS_PROVIDER}\nmetricsProvider.httpPort=8080\n`)[0]).toMatch(/both 8080/);
    expect(parse('admin.serverPrt=1\n').issues.map((i) => i.message)[0]).toMatch(/unknown key admin.serverPrt/);
  });
});

test('JSON is printed as Jackson prints ZooKeeper\'s AdminServer answers', () => {
  const body = { a: 1, big: 0x7fffffffffffffffn, avg: new Dbl(2), list: [1, 2], none: [], empty: {}, nested: { x: 'y' }, error: null };
  expect(jacksonJson(body)).toBe(
    '{\n  "a" : 1,\n  "big" : 9223372036854775807,\n  "avg" : 2.0,\n  "list" : [ 1, 2 ],\n  "none" : [ ],\n  "empty" : { },\n  "nested" : {\n    "x" : "y"\n  },\n  "error" : null\n}',
  );
});

test('every exported metric is documented in src/metrics/README.md, and nothing else is', () => {
  const doc = fs.readFileSync(path.join(__dirname, '../../src/metrics/README.md'), 'utf8');
  const documented = [...doc.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
  expect(documented.sort()).toEqual([...CATALOG, ...ZABKEEPER_METRICS].map((m) => m.name).sort());
});

describe('a standalone server with metrics and the AdminServer on', () => {
  let s: InProcServer;
  beforeAll(async () => {
    const operations = defaultOperationsConfig();
    operations.metrics = { ...operations.metrics, provider: 'prometheus', httpHost: '127.0.0.1', httpPort: 0 };
    operations.admin = { ...operations.admin, port: 0, rateLimiterIntervalMs: 60_000 };
    operations.enforceQuota = true;
    s = await startInProc({ operations, superDigest: 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=' });
  });
  afterAll(() => s.stop());

  test('/metrics counts what the client did; other paths are 404', async () => {
    const c = await s.connect();
    for (let i = 0; i < 20; i++) await rq.create(c, `/m${i}`, Buffer.from('abc'));
    await rq.getData(c, '/m0');
    const { metrics } = s.server.operationPorts;
    const e = parseExposition((await httpGet('127.0.0.1', metrics, '/metrics')).body);
    expect(e.value('znode_count')).toBe(25);
    expect(e.value('num_alive_connections')).toBe(1);
    expect(e.value('updatelatency_count')).toBe(21); // createSession + 20 creates
    expect(e.value('readlatency_count')).toBe(1);
    expect(e.value('zabkeeper_committed_txns_total')).toBe(21);
    expect(e.value('leader_uptime')).toBeUndefined();
    expect(e.value('quorum_size')).toBeUndefined();
    c.close();
    expect((await httpGet('127.0.0.1', metrics, '/')).status).toBe(404);
  });

  test('the event-loop lag summary is published from the one monitor mntr reads (looplag)', async () => {
    const { metrics } = s.server.operationPorts;
    const scrape = async () => parseExposition((await httpGet('127.0.0.1', metrics, '/metrics')).body);
    // The delay histogram records on its own timer: wait (bounded) for its first samples.
    const deadline = Date.now() + 10_000;
    let e = await scrape();
    while (!(e.value('zabkeeper_event_loop_lag_seconds_count')! > 0)) {
      if (Date.now() > deadline) throw new Error('zabkeeper_event_loop_lag_seconds_count stayed 0 for 10 s');
      await new Promise((r) => setTimeout(r, 50));
      e = await scrape();
    }
    for (const quantile of ['0.5', '0.9', '0.99', '1']) expect(e.value('zabkeeper_event_loop_lag_seconds', { quantile })).toBeGreaterThan(0);
    expect(e.value('zabkeeper_event_loop_lag_seconds_sum')).toBeGreaterThan(0);
    expect(loopLag.summary([0.5]).count).toBeGreaterThanOrEqual(e.value('zabkeeper_event_loop_lag_seconds_count')!);
  });

  test('quota gauges per namespace and hard-limit rejections', async () => {
    const c = await s.connect();
    await rq.create(c, '/ns', null);
    await rq.create(c, '/ns/a', Buffer.from('abcd'));
    await rq.create(c, '/zookeeper/quota/ns', null);
    await rq.create(c, '/zookeeper/quota/ns/zookeeper_stats', Buffer.from('count=0,bytes=0'));
    await rq.create(c, '/zookeeper/quota/ns/zookeeper_limits', Buffer.from('count=-1,bytes=-1=;byteHardLimit=10;countHardLimit=-1'));
    expect((await rq.create(c, '/ns/b', Buffer.from('0123456789'))).err).toBe(-125);
    c.close();
    const e = parseExposition((await httpGet('127.0.0.1', s.server.operationPorts.metrics, '/metrics')).body);
    expect(e.value('quota_bytes_limit_per_namespace', { key: 'ns' })).toBe(10);
    expect(e.value('quota_count_limit_per_namespace', { key: 'ns' })).toBe(-1);
    expect(e.value('quota_count_usage_per_namespace', { key: 'ns' })).toBe(2);
    expect(e.value('quota_bytes_usage_per_namespace', { key: 'ns' })).toBe(4);
    expect(e.value('quota_exceeded_error_per_namespace', { key: 'ns' })).toBe(1);
  });

  test('snapshot (ZooKeeper 3.9) needs credentials with ALL on "/" and is rate limited', async () => {
    const { admin } = s.server.operationPorts;
    const snap = (auth?: string) => httpGet('127.0.0.1', admin, '/commands/snapshot', auth ? { Authorization: auth } : {});
    expect((await snap()).status).toBe(401);
    expect(JSON.parse((await snap()).body)).toEqual({ command: 'snapshot', error: 'Auth info is missing for the command' });
    expect((await snap('x509')).status).toBe(401);
    const c = await s.connect();
    await rq.setACL(c, '/', [{ perms: 31, id: { scheme: 'digest', id: 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=' } }]);
    c.close();
    expect((await snap('ip')).status).toBe(403);
    const ok = await snap('digest super:test');
    expect(ok.status).toBe(200);
    expect(ok.headers.last_zxid).toBe(`0x${s.server.lastZxid().toString(16)}`);
    expect(Number(ok.headers.snapshot_size)).toBe(ok.raw.length);
    expect((await snap('digest super:test')).status).toBe(429);
  });
});

describe('the AdminServer port', () => {
  test('busy: the server logs it and serves its clients without an AdminServer (ZooKeeper would exit)', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      for (const explicit of [false, true]) {
        const operations = defaultOperationsConfig();
        operations.admin = { ...operations.admin, port, explicit };
        const s = await startInProc({ operations });
        expect(s.server.operationPorts.admin).toBe(0);
        const c = await s.connect();
        expect((await rq.create(c, '/still-serving', null)).err).toBe(0);
        c.close();
        await s.stop();
      }
    } finally {
      blocker.close();
    }
  });
});

describe('commands that reveal paths or sessions', () => {
  const external = Object.values(os.networkInterfaces()).flat().find((a) => a && !a.internal && a.family === 'IPv4')?.address;
  const maybe = external ? test : test.skip;

  maybe('need credentials from a non-loopback caller, as the snapshot command; loopback callers need none', async () => {
    const operations = defaultOperationsConfig();
    operations.admin = { ...operations.admin, address: '0.0.0.0', port: 0 };
    const s = await startInProc({ operations });
    try {
      const { admin } = s.server.operationPorts;
      expect((await httpGet(external!, admin, '/commands/dump')).status).toBe(401);
      expect((await httpGet(external!, admin, '/commands/wchp')).status).toBe(401);
      expect((await httpGet(external!, admin, '/commands/srvr')).status).toBe(200);
      // World-readable "/" (the default ACL): any authenticated caller, e.g. by IP, passes.
      expect((await httpGet(external!, admin, '/commands/dump', { Authorization: 'ip' })).status).toBe(200);
      expect((await httpGet('127.0.0.1', admin, '/commands/dump')).status).toBe(200);
    } finally {
      await s.stop();
    }
  });
});
