/**
 * Apache's own CLI (zkCli.sh 3.8) against each target. One zkCli process runs the whole script.
 * Checks: (a) explicit expected lines, in order; (b) the normalized transcript equals the golden one
 * recorded from Apache 3.8 (test/compat/golden/zkcli.txt). Regenerate the golden file with
 * ZK_UPDATE_GOLDEN=1 ZK_COMPAT_TARGETS=apache npx jest test/compat/zkcli
 */
import * as fs from 'fs';
import * as path from 'path';
import { compatTargets, isEnsemble, startServer, TestServer } from '../harness/servers';
import { ALICE_DIGEST, goldenScript, missingInOrder, Normalized, normalize, render, runZkCli } from './zkcli';

const GOLDEN = path.join(__dirname, 'golden', 'zkcli.txt');
// digest of alice:secret = base64(sha1("alice:secret"))


const STAT_KEYS = [
  'cZxid', 'ctime', 'mZxid', 'mtime', 'pZxid', 'cversion', 'dataVersion', 'aclVersion', 'ephemeralOwner',
  'dataLength', 'numChildren',
];

describe.each(compatTargets())('zkCli.sh against %s', (kind) => {
  let server: TestServer;
  let raw = '';
  let out: Normalized;

  beforeAll(async () => {
    // extendedTypesEnabled: Apache reads unknown zoo.cfg keys as zookeeper.* system properties; TTL
    // nodes need it. zabkeeper must accept the same file.
    server = await startServer(kind, { extraCfg: { extendedTypesEnabled: 'true' } });
    raw = await runZkCli(server.connectString, goldenScript(server.port));
    out = normalize(raw);
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
  });

  const expectInOrder = (needles: string[]) => {
    const missing = missingInOrder(out.lines, needles);
    if (missing !== undefined) throw new Error(`missing (in order) "${missing}" in transcript:\n${raw}`);
  };

  test('create: success, exists, missing parent, sequential/ephemeral/container/TTL', () => {
    expectInOrder([
      'Created /a',
      'Node already exists: /a',
      'Node does not exist: /x/y',
      '[a, zookeeper]',
      'Created /eph',
      'Created /seq-0000000002',
      'Created /seq-0000000003',
      'Created /eseq-0000000004',
      'Created /cont',
      'Created /cont/child',
      'Created /ttl',
    ]);
  });

  test('stat layout: 11 lines with zkCli key names and hex zxids', () => {
    const start = out.lines.findIndex((l) => l.startsWith('cZxid = '));
    const block = out.lines.slice(start, start + STAT_KEYS.length);
    expect(block.map((l) => l.split(' = ')[0])).toEqual(STAT_KEYS);
    expect(raw).toMatch(/^cZxid = 0x[0-9a-f]+$/m);
    expect(raw).toMatch(/^ctime = \w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2} \w+ \d{4}$/m);
    // /a: fresh node, data "hello".
    expect(block).toEqual([
      'cZxid = Z1', 'ctime = <TIME>', 'mZxid = Z1', 'mtime = <TIME>', 'pZxid = Z1', 'cversion = 0',
      'dataVersion = 0', 'aclVersion = 0', 'ephemeralOwner = 0x0', 'dataLength = 5', 'numChildren = 0',
    ]);
  });

  test('TTL and container nodes show ephemeralOwner 0x0 to clients', () => {
    const i = out.lines.indexOf('Created /ttl');
    expect(out.lines.slice(i + 1, i + 12)).toContain('ephemeralOwner = 0x0');
    expect(out.lines.slice(i + 1, i + 12)).toContain('dataLength = 1');
  });

  test('get/set with versions', () => {
    expectInOrder([
      'hello',
      'dataVersion = 2',
      'version No is not valid : /a',
      'v4',
      'Node does not exist: /missing',
      'Node does not exist: /missing',
    ]);
  });

  test('ls -R, ls -s, getAllChildrenNumber, getEphemerals', () => {
    expectInOrder(['/tree', '/tree/b', '/tree/b/c', '/tree/d', '[b, d]', 'cversion = 2', 'numChildren = 2', '3']);
    expectInOrder(['[/eph, /eseq-0000000004]', '[/eph, /eseq-0000000004]']);
  });

  test('delete / deleteall errors', () => {
    expectInOrder([
      'Node not empty: /tree',
      'version No is not valid : /tree/d',
      'Node does not exist: /missing',
      'Node does not exist: /tree',
    ]);
  });

  test('watches: one-shot, persistent, recursive, removal events', () => {
    expect(out.events).toEqual([
      'WatchedEvent state:SyncConnected type:None path:null',
      'WatchedEvent state:SyncConnected type:NodeDataChanged path:/a',
      'WatchedEvent state:SyncConnected type:NodeChildrenChanged path:/',
      // (stat -w /a and the later get -w /a share one data watch, removed by removewatches -d)
      // addWatch defaults to PERSISTENT_RECURSIVE in zkCli 3.8
      'WatchedEvent state:SyncConnected type:NodeCreated path:/pw',
      'WatchedEvent state:SyncConnected type:NodeCreated path:/pw/child',
      'WatchedEvent state:SyncConnected type:NodeDataChanged path:/pw/child',
      'WatchedEvent state:SyncConnected type:PersistentWatchRemoved path:/pw',
      // PERSISTENT: data and child changes of /pw itself, nothing for grandchildren's data
      'WatchedEvent state:SyncConnected type:NodeDataChanged path:/pw',
      'WatchedEvent state:SyncConnected type:NodeChildrenChanged path:/pw',
      'WatchedEvent state:SyncConnected type:PersistentWatchRemoved path:/pw',
      'WatchedEvent state:SyncConnected type:DataWatchRemoved path:/a',
      'WatchedEvent state:SyncConnected type:None path:null',
      // (`close`, `connect`, `quit`: the Closed events race the new handle's events and the JVM's
      // exit inside zkCli, so normalize() leaves them out of the trailing connection events)
    ]);
    expectInOrder(['printwatches is on', 'printwatches is off']);
  });

  test('ACLs and digest auth', () => {
    expectInOrder([
      "'world,'anyone",
      ': cdrwa',
      "'world,'anyone",
      ': r',
      "'world,'anyone",
      ': r',
      'Insufficient permission : /a',
      'Created /sec',
      "'digest,'alice:" + ALICE_DIGEST,
      ': cdrwa',
      's',
      "'digest,'alice:" + ALICE_DIGEST,
      ': crwa',
      'Auth scheme: User',
      'digest: alice',
      'ip: 127.0.0.1',
    ]);
    // After close + connect the new session has no digest identity.
    expectInOrder(['Insufficient permission : /sec', 'Auth scheme: User', 'ip: 127.0.0.1']);
    expect(out.lines.slice(-4)).toEqual(['Insufficient permission : /sec', 'Auth scheme: User', 'ip: 127.0.0.1', 'Sync is OK']);
  });

  test('sync, version, /zookeeper protection, path validation', () => {
    expectInOrder([
      'Sync is OK',
      'Created /zookeeper/no',
      'Arguments are not valid : /zookeeper',
      '[config, no, quota]',
      'cZxid = 0x0',
      'ctime = Thu Jan 01 00:00:00 UTC 1970',
      'Path must not end with / character',
      'Path must start with / character',
    ]);
  });

  test('config prints the membership: nothing standalone, server.N lines + version in an ensemble', () => {
    if (!isEnsemble(kind)) {
      expect(out.config).toEqual([]);
      return;
    }
    expect(out.config.length).toBe(4);
    for (let i = 1; i <= 3; i++) expect(out.config[i - 1]).toMatch(new RegExp(`^server\\.${i}=127\\.0\\.0\\.1:\\d+:\\d+:participant;127\\.0\\.0\\.1:\\d+$`));
    expect(out.config[3]).toBe('version=0');
  });

  test('normalized transcript equals the golden one recorded from Apache 3.8', () => {
    const text = render(out);
    if (kind === 'apache' && process.env.ZK_UPDATE_GOLDEN === '1') fs.writeFileSync(GOLDEN, text);
    expect(text).toBe(fs.readFileSync(GOLDEN, 'utf8'));
  });
});
