import { CreateFlags } from '../../protocol/jute/constants';
import { WireConnection } from '../../src/client/wire';
import { requests as rq } from '../../src/client/requests';
import { freePort } from '../../scripts/lib/zk-process';
import { startEnsemble, type TestEnsemble } from '../../scripts/lib/ensemble-process';
import { CATALOG, ZABKEEPER_METRICS } from '../../src/metrics/catalog';
import { PROMETHEUS_PROVIDER } from '../../src/config/operations';
import { parseExposition, httpGet, jsonShape, type Exposition } from './helpers';

/**
 * A 3-member zabkeeper ensemble under load exports ZooKeeper's metrics with ZooKeeper's names and
 * types and plausible values, and its AdminServer answers every command with the JSON fields (and
 * JSON types) Apache ZooKeeper 3.8's AdminServer gives in the same situation, side by side.
 */
const HOST = '127.0.0.1';
const connect = (port: number) => WireConnection.connect({ host: HOST, port, sessionTimeoutMs: 10_000, connectTimeoutMs: 5000 });

interface Target {
  ens: TestEnsemble;
  admin: number[];
  metrics: number[];
}

async function start(kind: 'zabkeeper' | 'apache'): Promise<Target> {
  const admin = [await freePort(), await freePort(), await freePort()];
  const metrics = [await freePort(), await freePort(), await freePort()];
  const ens = await startEnsemble(kind, 3, {
    tickTime: 500,
    // A busy CI machine stalls processes for seconds: a 5 s sync limit keeps one leader throughout,
    // so the leader's counters cover the whole load.
    extraCfg: { syncLimit: '25' },
    memberCfg: (id) => ({
      'admin.enableServer': 'true',
      'admin.serverAddress': HOST,
      'admin.serverPort': String(admin[id - 1]),
      // Debian's ZooKeeper has no Prometheus provider: only zabkeeper gets these keys.
      ...(kind === 'zabkeeper' ? { 'metricsProvider.className': PROMETHEUS_PROVIDER, 'metricsProvider.httpHost': HOST, 'metricsProvider.httpPort': String(metrics[id - 1]) } : {}),
    }),
  });
  await ens.waitServing();
  return { ens, admin, metrics };
}

/** Requests per lane: 4 lanes per member, each doing this many create + getData + setData. */
const ROUNDS = 25;
const LANES = 4;

/** Pipelined creates, reads and setData through every member (a fixed amount of work); returns how many creates succeeded. */
async function load(ens: TestEnsemble, parent: string): Promise<number> {
  const setup = await connect(ens.members[0]!.clientPort);
  await rq.create(setup, parent, null);
  setup.close();
  let created = 0;
  await Promise.all(
    ens.members.map(async (m, k) => {
      const c = await connect(m.clientPort);
      await Promise.all(
        Array.from({ length: LANES }, async () => {
          for (let i = 0; i < ROUNDS; i++) {
            const r = await rq.create(c, `${parent}/n${k}-`, Buffer.from('payload'), CreateFlags.persistentSequential);
            if (r.err === 0) created++;
            await rq.getData(c, parent);
            await rq.setData(c, parent, Buffer.from(String(created)));
          }
        }),
      );
      c.close();
    }),
  );
  return created;
}

async function leaderIndex(ens: TestEnsemble): Promise<number> {
  return ens.waitLeader();
}

/** The member whose scrape has the leader-only gauges (exactly one). */
function scrapedLeader(scrapes: readonly Exposition[]): number {
  const leaders = scrapes.flatMap((s, k) => (s.value('leader_uptime') !== undefined ? [k] : []));
  expect(leaders).toHaveLength(1);
  return leaders[0]!;
}

describe('metrics and AdminServer of a 3-member ensemble, beside Apache ZooKeeper 3.8', () => {
  let zab: Target;
  let apache: Target | undefined;
  let created = 0;
  const scrapes: Exposition[] = [];
  const lookingBefore: (number | undefined)[] = [];

  beforeAll(async () => {
    [zab, apache] = await Promise.all([start('zabkeeper'), process.env.ZK_COMPAT_TARGETS === 'zabkeeper' ? undefined : start('apache')]);
    // Elections so far: forming the ensemble on a busy machine may take more than one round.
    for (const port of zab.metrics) lookingBefore.push(parseExposition((await httpGet(HOST, port, '/metrics')).body).value('looking_count'));
    const loads = [load(zab.ens, '/load')];
    if (apache) loads.push(load(apache.ens, '/load'));
    [created] = await Promise.all(loads);
    for (const port of zab.metrics) {
      const res = await httpGet(HOST, port, '/metrics');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      scrapes.push(parseExposition(res.body));
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all([zab?.ens.stop(), apache?.ens.stop()]);
  });

  test('every catalog metric has ZooKeeper\'s name and type; leader-only gauges only on the leader', async () => {
    const leader = scrapedLeader(scrapes);
    scrapes.forEach((s, k) => {
      for (const m of CATALOG) {
        const type = { gauge: 'gauge', counter: 'counter', gaugeSet: 'gauge', counterSet: 'counter', summary: 'summary', summarySet: 'summary' }[m.kind];
        expect([m.name, s.types.get(m.name)]).toEqual([m.name, type]);
      }
      for (const m of ZABKEEPER_METRICS) expect([m.name, s.types.get(m.name)]).toEqual([m.name, m.type]);
      // exportJvmInfo defaults to true: Node's process metrics are there too.
      expect(s.types.get('process_cpu_user_seconds_total')).toBe('counter');
      const leaderOnly = ['leader_uptime', 'learners', 'synced_followers', 'pending_syncs', 'last_proposal_size'];
      for (const name of leaderOnly) expect([name, s.value(name) !== undefined]).toEqual([name, k === leader]);
      expect(s.value('quorum_size')).toBe(3);
    });
    expect(scrapes[leader]!.value('learners')).toBe(2);
    expect(scrapes[leader]!.value('synced_followers')).toBe(2);
  });

  test('values are plausible under load: counts match the tree, latencies and fsyncs were measured', async () => {
    const c = await connect(zab.ens.members[0]!.clientPort);
    const children = (await rq.getChildren(c, '/load')).body!.children.length;
    c.close();
    expect(children).toBe(created);
    expect(created).toBe(3 * LANES * ROUNDS);
    const leader = scrapedLeader(scrapes);
    // No election during the load: that leader saw all of it. (How many rounds forming the
    // ensemble took depends on the machine's load; at least one.)
    scrapes.forEach((s, k) => expect([k, s.value('looking_count')]).toEqual([k, lookingBefore[k]]));
    for (const n of lookingBefore) expect(n).toBeGreaterThanOrEqual(1);
    scrapes.forEach((s, k) => {
      // 4 system nodes (the root counted twice, as ZooKeeper) + /load + its children.
      expect(s.value('znode_count')).toBe(5 + 1 + created);
      expect(s.value('num_alive_connections')).toBe(0);
      // Each member served LANES * ROUNDS getData, and as many creates and setData.
      expect(s.value('readlatency_count')).toBeGreaterThanOrEqual(LANES * ROUNDS);
      expect(s.value('updatelatency_count')).toBeGreaterThanOrEqual(2 * LANES * ROUNDS);
      expect(s.value('updatelatency_sum')).toBeGreaterThan(0);
      expect(s.value('updatelatency', { quantile: '0.99' })).toBeGreaterThanOrEqual(s.value('updatelatency', { quantile: '0.5' })!);
      expect(s.value('fsynctime_count')).toBeGreaterThan(0);
      expect(s.value('fsynctime_sum')).toBeGreaterThan(0);
      expect(s.value('zabkeeper_fsync_seconds_count')).toBe(s.value('fsynctime_count'));
      expect(s.value('zabkeeper_group_commit_batch_size_sum')).toBeGreaterThanOrEqual(created);
      // One election time per LOOKING round that ended in leading/following, none during the load.
      expect(s.value('election_time_count')).toBeGreaterThanOrEqual(1);
      expect(s.value('election_time_count')).toBeLessThanOrEqual(lookingBefore[k]!);
      expect(s.value('connection_request_count')).toBeGreaterThanOrEqual(2);
      expect(s.value('max_client_response_size')).toBeGreaterThan(0);
      expect(s.value('open_file_descriptor_count')).toBeGreaterThan(5);
      expect(s.value('jvm_memory_bytes_used', { area: 'heap' })).toBeGreaterThan(1e6);
    });
    const l = scrapes[leader]!;
    expect(l.value('proposal_count')).toBeGreaterThanOrEqual(created);
    expect(l.value('quorum_ack_latency_count')).toBeGreaterThanOrEqual(created);
    expect(l.value('commit_count')).toBeGreaterThanOrEqual(created);
    const peers = zab.ens.members.filter((_, k) => k !== leader).map((m) => String(m.id));
    for (const p of peers) {
      expect(l.value('ack_latency_count', { key: p })).toBeGreaterThan(0);
      expect(l.value('zabkeeper_peer_rtt_seconds_count', { peer: p })).toBeGreaterThan(0);
    }
    scrapes.forEach((s, k) => {
      if (k !== leader) expect(s.value('learner_commit_received_count')).toBeGreaterThanOrEqual(created);
    });
  });

  test('GET /commands lists ZooKeeper\'s commands', async () => {
    const ours = (await httpGet(HOST, zab.admin[0]!, '/commands')).body;
    const names = [...ours.matchAll(/<a href="\/commands\/(\w+)">\1<\/a>\n<br\/>\n/g)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(20);
    if (!apache) return;
    const theirs = (await httpGet(HOST, apache.admin[0]!, '/commands')).body;
    // Same listing, except hash (ZooKeeper's digest log; we have none) and 3.9's snapshot.
    expect(ours.replace('<a href="/commands/snapshot">snapshot</a>\n<br/>\n', '')).toBe(theirs.replace('<a href="/commands/hash">hash</a>\n<br/>\n', ''));
  });

  /** Commands compared field by field (with JSON types); dynamic map keys (sessions, paths) are compared by value shape. */
  const COMPARED = [
    'conf', 'cons', 'crst', 'dirs', 'dump', 'envi', 'gtmk', 'icfg', 'isro', 'lsnp', 'lead', 'obsr', 'orst', 'ruok',
    'srvr', 'stat', 'srst', 'voting_view', 'wchs', 'wchc', 'wchp', 'zabstate', 'nosuch', 'stmk',
  ];

  test.each(['leader', 'follower'])('every command on the %s has the fields and JSON types Apache gives', async (role) => {
    if (!apache) return;
    const pick = async (t: Target) => {
      const leader = await leaderIndex(t.ens);
      return role === 'leader' ? leader : (leader + 1) % 3;
    };
    const [zi, ai] = [await pick(zab), await pick(apache)];
    // The same situation on both: a session with a watch and an ephemeral, held open.
    const clients = await Promise.all([connect(zab.ens.members[zi]!.clientPort), connect(apache.ens.members[ai]!.clientPort)]);
    try {
      for (const c of clients) {
        await rq.create(c, `/eph-${role}`, Buffer.from('x'), CreateFlags.ephemeral);
        await rq.getData(c, '/load', true);
        await rq.exists(c, `/eph-${role}`, true);
      }
      for (const cmd of COMPARED) {
        const [ours, theirs] = await Promise.all([
          httpGet(HOST, zab.admin[zi]!, `/commands/${cmd}`),
          httpGet(HOST, apache.admin[ai]!, `/commands/${cmd}`),
        ]);
        expect([cmd, ours.status, ours.headers['content-type']]).toEqual([cmd, 200, 'application/json']);
        const expected = JSON.parse(theirs.body);
        // A quorum peer of ZooKeeper 3.8 reports a null initial configuration (only standalone
        // servers keep the file's text); ours reports the text in both modes.
        if (cmd === 'icfg' && expected.initial_configuration === null) expected.initial_configuration = 'zoo.cfg text';
        expect([cmd, jsonShape(JSON.parse(ours.body))]).toEqual([cmd, jsonShape(expected)]);
      }
      // monitor: every ZooKeeper metric we print is one Apache prints (ours carry a zabkeeper_ prefix or a _peer_rtt name).
      const [ours, theirs] = await Promise.all([httpGet(HOST, zab.admin[zi]!, '/commands/monitor'), httpGet(HOST, apache.admin[ai]!, '/commands/monitor')]);
      // Per-learner summaries are named avg_<sid>_ack_latency: which sids depends on who leads.
      const bySid = (k: string) => k.replace(/^(avg|min|max|cnt|sum)_\d+_/, '$1_<sid>_');
      const apacheKeys = new Set(Object.keys(JSON.parse(theirs.body)).map(bySid));
      // ack_latency per learner is ZooKeeper 3.9's; 3.8.0 has only quorum_ack_latency.
      const ours39 = (k: string) => k.startsWith('zabkeeper_') || k.endsWith('_peer_rtt') || k.endsWith('_<sid>_ack_latency');
      const missing = Object.keys(JSON.parse(ours.body)).map(bySid).filter((k) => !ours39(k) && !apacheKeys.has(k));
      expect(missing).toEqual([]);
    } finally {
      for (const c of clients) c.close();
    }
  });
});
