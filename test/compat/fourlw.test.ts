/**
 * Four-letter words: line-shape checks that hold for Apache 3.8 and must hold for zabkeeper. Values
 * (latencies, counts, paths) vary, so only the format is compared, plus a few values we control.
 */
import * as zookeeper from 'node-zookeeper-client';
import { compatTargets, isEnsemble, startServer, TestServer, type TargetKind } from '../harness/servers';

const NUM = '\\d+';
const DBL = '\\d+\\.\\d+';
const ZXID = '0x[0-9a-f]+';

/** Every line of `text` (except a trailing empty one) must match one of `patterns`, in order. */
function expectLines(text: string, patterns: RegExp[]): void {
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  expect(lines.length).toBe(patterns.length);
  lines.forEach((line, i) => expect(line).toMatch(patterns[i]));
}

const statsLines = (kind: TargetKind): RegExp[] => [
  new RegExp(`^Latency min/avg/max: ${NUM}/${DBL}/${NUM}$`),
  new RegExp(`^Received: ${NUM}$`),
  new RegExp(`^Sent: ${NUM}$`),
  new RegExp(`^Connections: ${NUM}$`),
  new RegExp(`^Outstanding: ${NUM}$`),
  new RegExp(`^Zxid: ${ZXID}$`),
  // An ensemble member reports its role instead of standalone.
  isEnsemble(kind) ? /^Mode: (leader|follower)$/ : /^Mode: standalone$/,
  new RegExp(`^Node count: ${NUM}$`),
];
const VERSION_LINE = /^Zookeeper version: \S+.*, built on .+$/;
const CLIENT_LINE = new RegExp(`^ /127\\.0\\.0\\.1:${NUM}\\[[0-9a-f]+\\]\\(queued=${NUM},recved=${NUM},sent=${NUM}(,.*)?\\)$`);

describe.each(compatTargets())('four-letter words against %s', (kind) => {
  let server: TestServer;
  let client: zookeeper.Client;

  beforeAll(async () => {
    server = await startServer(kind);
    // The 4lw target itself (member 1 of an ensemble), so cons/stat see this client.
    client = zookeeper.createClient(`127.0.0.1:${server.port}`, { sessionTimeout: 10000, retries: 0 });
    await new Promise<void>((resolve) => {
      client.once('connected', () => resolve());
      client.connect();
    });
    // One znode with a data watch, so wchs/cons have something to report.
    await new Promise<void>((res, rej) => client.create('/fourlw', Buffer.from('x'), (e) => (e ? rej(e) : res())));
    await new Promise<void>((res, rej) =>
      client.exists('/fourlw', () => undefined, (e) => (e ? rej(e) : res())),
    );
  });

  afterAll(async () => {
    client?.close();
    await server?.stop();
  });

  test('ruok answers imok without newline', async () => {
    expect(await server.fourLetter('ruok')).toBe('imok');
  });

  test('isro answers rw', async () => {
    expect(await server.fourLetter('isro')).toBe('rw');
  });

  test('srvr layout', async () => {
    const out = await server.fourLetter('srvr');
    expectLines(out, [VERSION_LINE, ...statsLines(kind)]);
    expect(out).toMatch(/^Connections: [1-9]\d*$/m);
  });

  test('stat layout: version, Clients:, one line per connection, blank, stats', async () => {
    const out = await server.fourLetter('stat');
    const lines = out.split('\n');
    expect(lines[0]).toMatch(VERSION_LINE);
    expect(lines[1]).toBe('Clients:');
    const blank = lines.indexOf('', 2);
    expect(blank).toBeGreaterThan(2);
    for (const l of lines.slice(2, blank)) expect(l).toMatch(CLIENT_LINE);
    expectLines(lines.slice(blank + 1).join('\n'), statsLines(kind));
  });

  test('mntr: zk_version and zk_server_state first, then tab-separated zk_ metrics', async () => {
    const out = await server.fourLetter('mntr');
    const lines = out.slice(0, -1).split('\n');
    expect(out.endsWith('\n')).toBe(true);
    expect(lines[0]).toMatch(/^zk_version\t.+$/);
    if (isEnsemble(kind)) {
      expect(lines[1]).toMatch(/^zk_server_state\t(leader|follower)$/);
      expect(lines).toContain('zk_quorum_size\t3');
      expect(lines.some((l) => /^zk_peer_state\t(leading|following) - broadcast$/.test(l))).toBe(true);
    } else {
      expect(lines[1]).toBe('zk_server_state\tstandalone');
    }
    for (const l of lines) expect(l).toMatch(/^zk_[a-z0-9_]+\t\S.*$/);
    const map = new Map(lines.map((l) => l.split('\t') as [string, string]));
    for (const key of [
      'zk_avg_latency', 'zk_max_latency', 'zk_min_latency', 'zk_packets_received', 'zk_packets_sent',
      'zk_num_alive_connections', 'zk_outstanding_requests', 'zk_znode_count', 'zk_watch_count',
      'zk_ephemerals_count', 'zk_approximate_data_size',
    ]) {
      expect(map.get(key)).toMatch(/^\d+(\.\d+)?$/);
    }
    expect(Number(map.get('zk_watch_count'))).toBeGreaterThanOrEqual(1);
  });

  test('conf: standalone keys in order (plus the quorum block in an ensemble)', async () => {
    const out = await server.fourLetter('conf');
    const quorum = isEnsemble(kind)
      ? [/^initLimit=10$/, /^syncLimit=5$/, /^electionAlg=3$/, /^electionPort=\d+$/, /^quorumPort=\d+$/, /^peerType=0$/, /^membership: $/,
         /^server\.1=127\.0\.0\.1:\d+:\d+:participant;127\.0\.0\.1:\d+$/, /^server\.2=\S+$/, /^server\.3=\S+$/, /^version=0$/]
      : [];
    expectLines(out, [
      new RegExp(`^clientPort=${server.port}$`),
      /^secureClientPort=-?\d+$/,
      /^dataDir=\S+$/,
      /^dataDirSize=\d+$/,
      /^dataLogDir=\S+$/,
      /^dataLogSize=\d+$/,
      /^tickTime=2000$/,
      /^maxClientCnxns=200$/,
      /^minSessionTimeout=4000$/,
      /^maxSessionTimeout=40000$/,
      /^clientPortListenBacklog=-?\d+$/,
      /^serverId=\d+$/,
      ...quorum,
    ]);
    expect(out).toContain(`dataDir=${server.dataDir}`);
  });

  test('cons: one line per connection, session fields for sessions, then blank line', async () => {
    const out = await server.fourLetter('cons');
    expect(out.endsWith('\n\n')).toBe(true);
    const lines = out.slice(0, -2).split('\n');
    for (const l of lines) expect(l).toMatch(CLIENT_LINE);
    // Our nzc session's line carries sid/lop/... fields.
    expect(out).toMatch(/sid=0x[0-9a-f]+,lop=\w+,est=\d+,to=\d+,/);
  });

  test('envi: Environment: then key=value lines incl. zookeeper.version', async () => {
    const out = await server.fourLetter('envi');
    const lines = out.slice(0, -1).split('\n');
    expect(lines[0]).toBe('Environment:');
    for (const l of lines.slice(1)) expect(l).toMatch(/^[a-z.]+=.*$/);
    const keys = lines.slice(1).map((l) => l.split('=')[0]);
    expect(keys).toEqual(expect.arrayContaining(['zookeeper.version', 'host.name', 'os.name', 'user.dir']));
    expect(keys[0]).toBe('zookeeper.version');
  });

  test('wchs: connections/paths/total', async () => {
    const out = await server.fourLetter('wchs');
    expectLines(out, [/^1 connections watching 1 paths$/, /^Total watches:1$/]);
  });

  test('dirs: datadir_size and logdir_size', async () => {
    expectLines(await server.fourLetter('dirs'), [/^datadir_size: \d+$/, /^logdir_size: \d+$/]);
  });

  test('unknown word: closed without output', async () => {
    expect(await server.fourLetter('xyzw')).toBe('');
  });
});
