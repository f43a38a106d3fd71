import { OpCode } from '../../protocol/jute/constants';
import {
  formatFourLetter,
  isFourLetterWord,
  parseWhitelist,
  notInWhitelistMessage,
  decideFourLetter,
  fourLetterOpName,
  formatSetTraceMask,
  watchFields,
  sessionFields,
  FOUR_LETTER_WORDS,
  NOT_SERVING,
  javaDouble,
  javaHex,
  javaDate,
  javaSocketAddress,
  round4,
  type ServerSnapshot,
  type ConnSnapshot,
} from '../../src/fourlw';
import { WatchManager } from '../../src/watch';
import { SessionTracker } from '../../src/session';

const code = (w: string) => Buffer.from(w, 'ascii').readInt32BE(0);

const conn = (over: Partial<ConnSnapshot> = {}): ConnSnapshot => ({
  remoteAddress: '127.0.0.1',
  remotePort: 50514,
  interestOps: 1,
  queued: 0,
  packetsReceived: 3,
  packetsSent: 2,
  sessionId: 0x010000349e930000n,
  lastOp: 'PING',
  establishedMs: 1700000000000,
  timeoutMs: 30000,
  lastCxid: 5,
  lastZxid: 0x12n,
  lastResponseMs: 1700000001000,
  lastLatency: 1,
  minLatency: 0,
  avgLatency: 0.6,
  maxLatency: 3,
  ...over,
});

const snap = (over: Partial<ServerSnapshot> = {}): ServerSnapshot => ({
  serving: true,
  version: '3.8.4-zabkeeper-0.1.0, built on 2026-11-23 17:00 UTC',
  mode: 'standalone',
  zxid: 0x1an,
  latency: { min: 0, avg: 1.58934, max: 12 },
  packetsReceived: 40,
  packetsSent: 39,
  outstanding: 0,
  nodeCount: 5,
  connections: [conn(), conn({ remotePort: 50515, sessionId: 0n, packetsReceived: 1, packetsSent: 0, interestOps: 0 })],
  uptimeMs: 123456,
  watchCount: 3,
  ephemeralsCount: 1,
  approximateDataSize: 44,
  globalSessions: 1,
  localSessions: 0,
  openFileDescriptorCount: 21,
  maxFileDescriptorCount: 1048576,
  clientResponseSize: { last: 16, min: 16, max: 100 },
  authFailedCount: 0,
  conf: {
    clientPort: 2181,
    secureClientPort: -1,
    dataDir: '/tmp/zookeeper/version-2',
    dataDirSize: 457,
    dataLogDir: '/tmp/zookeeper/version-2',
    dataLogSize: 67108880,
    tickTime: 2000,
    maxClientCnxns: 60,
    minSessionTimeout: 4000,
    maxSessionTimeout: 40000,
    clientPortListenBacklog: -1,
    serverId: 0,
  },
  sessionBuckets: [{ expiresAtMs: Date.UTC(2026, 10, 23, 17, 49, 16), sessions: [0x010000349e930000n] }],
  sessionCount: 1,
  ephemerals: [[0x010000349e930000n, ['/e1', '/e2']]],
  ephemeralSessionCount: 1,
  watchSummary: { connections: 1, paths: 2, total: 2 },
  watchesBySession: [[0x010000349e930000n, ['/a', '/b']]],
  watchesByPath: [
    ['/a', [0x010000349e930000n]],
    ['/b', [0x010000349e930000n, -2n]],
  ],
  env: [
    ['zookeeper.version', '3.8.4-zabkeeper-0.1.0, built on 2026-11-23 17:00 UTC'],
    ['host.name', 'box'],
  ],
  traceMask: 306,
  readOnly: false,
  ...over,
});

describe('four-letter word recognition', () => {
  test('every command maps from its 4 ASCII bytes, signed or unsigned', () => {
    for (const w of FOUR_LETTER_WORDS) {
      expect(isFourLetterWord(code(w))).toBe(w);
      expect(isFourLetterWord(code(w) >>> 0)).toBe(w);
    }
    expect(isFourLetterWord(0x72756f6b)).toBe('ruok');
    expect(isFourLetterWord(code('xyzw'))).toBeUndefined();
    expect(isFourLetterWord(45)).toBeUndefined();
    expect(isFourLetterWord(0xfff4fffd)).toBe('telnet close');
  });

  test('parseWhitelist: trims, splits commas, * = all, unknown names dropped', () => {
    expect(parseWhitelist(['srvr'])).toEqual(new Set(['srvr']));
    expect(parseWhitelist([' ruok , stat', 'mntr', 'bogus', ''])).toEqual(new Set(['ruok', 'stat', 'mntr']));
    expect(parseWhitelist(['*'])).toEqual(new Set(FOUR_LETTER_WORDS));
  });

  test('whitelist decisions', () => {
    const wl = new Set(['srvr']);
    expect(decideFourLetter(code('srvr'), wl)).toEqual({ kind: 'run', cmd: 'srvr' });
    expect(decideFourLetter(code('ruok'), wl)).toEqual({ kind: 'refuse', cmd: 'ruok', text: 'ruok is not executed because it is not in the whitelist.\n' });
    expect(decideFourLetter(code('xyzw'), wl)).toEqual({ kind: 'notFourLetter' });
    expect(decideFourLetter(0xfff4fffd, wl).kind).toBe('refuse');
    expect(decideFourLetter(0xfff4fffd, '*')).toEqual({ kind: 'notFourLetter' });
    expect(decideFourLetter(code('dump'), '*')).toEqual({ kind: 'run', cmd: 'dump' });
    expect(notInWhitelistMessage('stat')).toBe('stat is not executed because it is not in the whitelist.\n');
  });
});

describe('four-letter word output (golden)', () => {
  test('ruok / isro / gtmk / stmk have no newline', () => {
    expect(formatFourLetter('ruok', snap())).toBe('imok');
    expect(formatFourLetter('isro', snap())).toBe('rw');
    expect(formatFourLetter('isro', snap({ readOnly: true }))).toBe('ro');
    expect(formatFourLetter('gtmk', snap())).toBe('306');
    expect(formatSetTraceMask(306n)).toBe('306');
  });

  test('srvr', () => {
    expect(formatFourLetter('srvr', snap())).toBe(
      'Zookeeper version: 3.8.4-zabkeeper-0.1.0, built on 2026-11-23 17:00 UTC\n' +
        'Latency min/avg/max: 0/1.5893/12\n' +
        'Received: 40\n' +
        'Sent: 39\n' +
        'Connections: 2\n' +
        'Outstanding: 0\n' +
        'Zxid: 0x1a\n' +
        'Mode: standalone\n' +
        'Node count: 5\n',
    );
  });

  test('srvr on a fresh server prints avg 0.0; leader adds proposal sizes; read-only adds its line', () => {
    const fresh = formatFourLetter('srvr', snap({ latency: { min: 0, avg: 0, max: 0 }, mode: 'leader', proposalSizes: { last: -1, min: -1, max: -1 }, readOnly: true }))!;
    expect(fresh).toContain('\nREAD-ONLY mode; serving only read-only clients\nLatency min/avg/max: 0/0.0/0\n');
    expect(fresh.endsWith('Mode: leader\nNode count: 5\nProposal sizes last/min/max: -1/-1/-1\n')).toBe(true);
  });

  test('stat', () => {
    expect(formatFourLetter('stat', snap())).toBe(
      'Zookeeper version: 3.8.4-zabkeeper-0.1.0, built on 2026-11-23 17:00 UTC\n' +
        'Clients:\n' +
        ' /127.0.0.1:50514[1](queued=0,recved=3,sent=2)\n' +
        ' /127.0.0.1:50515[0](queued=0,recved=1,sent=0)\n' +
        '\n' +
        'Latency min/avg/max: 0/1.5893/12\n' +
        'Received: 40\n' +
        'Sent: 39\n' +
        'Connections: 2\n' +
        'Outstanding: 0\n' +
        'Zxid: 0x1a\n' +
        'Mode: standalone\n' +
        'Node count: 5\n',
    );
  });

  test('cons: session fields only when sid != 0; lcxid omitted when negative; lzxid -1 as two\'s complement', () => {
    expect(formatFourLetter('cons', snap())).toBe(
      ' /127.0.0.1:50514[1](queued=0,recved=3,sent=2,sid=0x10000349e930000,lop=PING,est=1700000000000,to=30000,lcxid=0x5,lzxid=0x12,lresp=1700000001000,llat=1,minlat=0,avglat=0,maxlat=3)\n' +
        ' /127.0.0.1:50515[0](queued=0,recved=1,sent=0)\n' +
        '\n',
    );
    const odd = formatFourLetter('cons', snap({ connections: [conn({ lastCxid: -2, lastZxid: -1n, remoteAddress: '::ffff:10.1.2.3' })] }))!;
    expect(odd).toContain(' /10.1.2.3:50514[1]');
    expect(odd).toContain(',to=30000,lzxid=0xffffffffffffffff,');
    expect(formatFourLetter('cons', snap({ connections: [] }))).toBe('\n');
  });

  test('conf (standalone and quorum)', () => {
    const standalone =
      'clientPort=2181\n' +
      'secureClientPort=-1\n' +
      'dataDir=/tmp/zookeeper/version-2\n' +
      'dataDirSize=457\n' +
      'dataLogDir=/tmp/zookeeper/version-2\n' +
      'dataLogSize=67108880\n' +
      'tickTime=2000\n' +
      'maxClientCnxns=60\n' +
      'minSessionTimeout=4000\n' +
      'maxSessionTimeout=40000\n' +
      'clientPortListenBacklog=-1\n' +
      'serverId=0\n';
    expect(formatFourLetter('conf', snap())).toBe(standalone);
    const s = snap();
    s.conf = {
      ...s.conf,
      serverId: 1,
      quorum: {
        initLimit: 10,
        syncLimit: 5,
        electionAlg: 3,
        electionPort: 3888,
        quorumPort: 2888,
        peerType: 0,
        membership: 'server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\nversion=0',
      },
    };
    expect(formatFourLetter('conf', s)).toBe(
      standalone.replace('serverId=0', 'serverId=1') +
        'initLimit=10\nsyncLimit=5\nelectionAlg=3\nelectionPort=3888\nquorumPort=2888\npeerType=0\nmembership: \n' +
        'server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\nversion=0',
    );
  });

  test('mntr: zk_version and zk_server_state first, tab separated, doubles as doubles', () => {
    const out = formatFourLetter('mntr', snap())!;
    const lines = out.split('\n');
    expect(lines[0]).toBe('zk_version\t3.8.4-zabkeeper-0.1.0, built on 2026-11-23 17:00 UTC');
    expect(lines[1]).toBe('zk_server_state\tstandalone');
    expect(out.endsWith('\n')).toBe(true);
    for (const l of lines.slice(0, -1)) expect(l).toMatch(/^zk_[a-z_0-9]+\t\S/);
    expect(lines).toContain('zk_avg_latency\t1.5893');
    expect(lines).toContain('zk_min_latency\t0');
    expect(lines).toContain('zk_znode_count\t5');
    expect(lines).toContain('zk_watch_count\t3');
    expect(lines).toContain('zk_num_alive_connections\t2');
    expect(lines).toContain('zk_connection_drop_probability\t0.0');
    expect(lines).toContain('zk_open_file_descriptor_count\t21');
    expect(lines.some((l) => l.startsWith('zk_peer_state'))).toBe(false);
    const fresh = formatFourLetter('mntr', snap({ latency: { min: 0, avg: 0, max: 0 } }))!;
    expect(fresh).toContain('zk_avg_latency\t0.0\n');
  });

  test('mntr in quorum mode: peer_state third, leader gauges', () => {
    const out = formatFourLetter(
      'mntr',
      snap({
        mode: 'leader',
        peerState: 'leading - broadcast',
        quorumSize: 3,
        leader: { learners: 2, syncedFollowers: 2, syncedNonVotingFollowers: 0, syncedObservers: 0, pendingSyncs: 0, leaderUptimeMs: 99, lastProposalSize: 36, maxProposalSize: 90, minProposalSize: 36 },
        extraMetrics: [['custom_ratio', 0.25]],
      }),
    )!;
    const lines = out.split('\n');
    expect(lines.slice(0, 3)).toEqual(['zk_version\t3.8.4-zabkeeper-0.1.0, built on 2026-11-23 17:00 UTC', 'zk_server_state\tleader', 'zk_peer_state\tleading - broadcast']);
    expect(lines).toEqual(expect.arrayContaining(['zk_quorum_size\t3', 'zk_synced_followers\t2', 'zk_pending_syncs\t0', 'zk_custom_ratio\t0.25']));
  });

  test('envi', () => {
    expect(formatFourLetter('envi', snap())).toBe('Environment:\nzookeeper.version=3.8.4-zabkeeper-0.1.0, built on 2026-11-23 17:00 UTC\nhost.name=box\n');
  });

  test('wchs / wchc / wchp', () => {
    expect(formatFourLetter('wchs', snap())).toBe('1 connections watching 2 paths\nTotal watches:2\n');
    expect(formatFourLetter('wchc', snap())).toBe('0x10000349e930000\n\t/a\n\t/b\n\n');
    expect(formatFourLetter('wchp', snap())).toBe('/a\n\t0x10000349e930000\n/b\n\t0x10000349e930000\n\t0xfffffffffffffffe\n\n');
    expect(formatFourLetter('wchc', snap({ watchesBySession: [] }))).toBe('\n');
  });

  test('dump', () => {
    expect(formatFourLetter('dump', snap())).toBe(
      'SessionTracker dump:\n' +
        'Session Sets (1)/(1):\n' +
        '1 expire at Mon Nov 23 17:49:16 UTC 2026:\n' +
        '\t0x10000349e930000\n' +
        'ephemeral nodes dump:\n' +
        'Sessions with Ephemerals (1):\n' +
        '0x10000349e930000:\n' +
        '\t/e1\n' +
        '\t/e2\n' +
        'Connections dump:\n' +
        'Connections Sets (0)/(0):\n',
    );
  });

  test('dirs / srst / crst', () => {
    expect(formatFourLetter('dirs', snap())).toBe('datadir_size: 457\nlogdir_size: 67108880\n');
    expect(formatFourLetter('srst', snap())).toBe('Server stats reset.\n');
    expect(formatFourLetter('crst', snap())).toBe('Connection stats reset.\n');
  });

  test('not serving: most print the not-serving line; ruok/envi/gtmk still work; isro prints null', () => {
    const down = snap({ serving: false });
    for (const w of ['srvr', 'stat', 'cons', 'conf', 'mntr', 'wchs', 'wchc', 'wchp', 'dump', 'dirs', 'srst', 'crst']) {
      expect(formatFourLetter(w, down)).toBe(NOT_SERVING);
    }
    expect(NOT_SERVING).toBe('This ZooKeeper instance is not currently serving requests\n');
    expect(formatFourLetter('ruok', down)).toBe('imok');
    expect(formatFourLetter('isro', down)).toBe('null');
    expect(formatFourLetter('envi', down)!.startsWith('Environment:\n')).toBe(true);
    expect(formatFourLetter('gtmk', down)).toBe('306');
  });

  test('commands the caller must handle itself', () => {
    expect(formatFourLetter('stmk', snap())).toBeUndefined();
    expect(formatFourLetter('hash', snap())).toBeUndefined();
    expect(formatFourLetter('nope', snap())).toBeUndefined();
  });
});

describe('Java value printing', () => {
  test.each([
    [0, '0.0'],
    [1, '1.0'],
    [1.5893, '1.5893'],
    [0.001, '0.001'],
    [0.0001, '1.0E-4'],
    [12345678, '1.2345678E7'],
    [1e7, '1.0E7'],
    [-2.5, '-2.5'],
  ])('javaDouble(%p) = %s', (x, s) => expect(javaDouble(x)).toBe(s));

  test('round4 is HALF_UP at 4 places', () => {
    expect(round4(1.58935)).toBe(1.5894);
    expect(round4(1.58934)).toBe(1.5893);
    expect(round4(2 / 3)).toBe(0.6667);
    expect(round4(0)).toBe(0);
  });

  test('javaHex / javaDate / javaSocketAddress', () => {
    expect(javaHex(0n)).toBe('0');
    expect(javaHex(-1n)).toBe('ffffffffffffffff');
    expect(javaHex(0x100000000n)).toBe('100000000');
    expect(javaDate(Date.UTC(2024, 1, 5, 3, 4, 5))).toBe('Mon Feb 05 03:04:05 UTC 2024');
    expect(javaSocketAddress('127.0.0.1', 1)).toBe('/127.0.0.1:1');
    expect(javaSocketAddress('::1', 2)).toBe('/[0:0:0:0:0:0:0:1]:2');
    expect(javaSocketAddress('fe80::a:0b', 3)).toBe('/[fe80:0:0:0:0:0:a:b]:3');
    expect(javaSocketAddress('::FFFF:127.0.0.1', 4)).toBe('/127.0.0.1:4');
  });

  test('lop names', () => {
    expect(fourLetterOpName(OpCode.ping)).toBe('PING');
    expect(fourLetterOpName(OpCode.getData)).toBe('GETD');
    expect(fourLetterOpName(OpCode.createSession)).toBe('SESS');
    expect(fourLetterOpName(12345)).toBe('NA');
  });
});

describe('snapshot helpers', () => {
  test('watchFields reports the data table by session, like ZooKeeper', () => {
    const w = new WatchManager();
    w.add(1, '/a', 'data');
    w.add(1, '/b', 'child');
    w.add(2, '/a', 'exist');
    w.add(3, '/p', 'persistent');
    const f = watchFields(w, (c) => (c === 3 ? undefined : BigInt(c) << 56n));
    expect(f.watchCount).toBe(5);
    expect(f.watchSummary).toEqual({ connections: 3, paths: 2, total: 3 });
    expect(f.watchesBySession).toEqual([
      [1n << 56n, ['/a']],
      [2n << 56n, ['/a']],
      [0n, ['/p']],
    ]);
    const s = snap(f);
    expect(formatFourLetter('wchs', s)).toBe('3 connections watching 2 paths\nTotal watches:3\n');
    expect(formatFourLetter('wchp', s)).toBe('/a\n\t0x100000000000000\n\t0x200000000000000\n/p\n\t0x0\n\n');
  });

  test('sessionFields', () => {
    const t = new SessionTracker({ tickTimeMs: 1000 });
    t.add(5n, 3000, 0);
    t.add(6n, 3000, 10);
    expect(sessionFields(t, (ms) => ms + 1_000_000)).toEqual({
      sessionBuckets: [{ expiresAtMs: 1_004_000, sessions: [5n, 6n] }],
      sessionCount: 2,
    });
  });
});
