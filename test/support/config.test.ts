import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseZooCfg, loadConfig, applyMyId, assertNoErrors, ConfigError, parseProperties, resolveClientAddress, DEFAULT_FOUR_LETTER_WHITELIST, type ConfigIssue } from '../../src/config';
import { optionsFromConfig } from '../../src/server/fromConfig';

/** What Apache ZooKeeper ships as conf/zoo_sample.cfg (the settings; comments paraphrased). */
const ZK_SAMPLE = `# The number of milliseconds of each tick
tickTime=2000
# The number of ticks that the initial
# synchronization phase can take
initLimit=10
# The number of ticks that can pass between
# sending a request and getting an acknowledgement
syncLimit=5
# the directory where the snapshot is stored.
dataDir=/tmp/zookeeper
# the port at which the clients will connect
clientPort=2181
# the maximum number of client connections.
#maxClientCnxns=60
#
# The number of snapshots to retain in dataDir
#autopurge.snapRetainCount=3
# Purge task interval in hours
# Set to "0" to disable auto purge feature
#autopurge.purgeInterval=1

## Metrics Providers
#metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
#metricsProvider.httpPort=7000
#metricsProvider.exportJvmInfo=true
`;

const errors = (issues: ConfigIssue[]) => issues.filter((i) => i.severity === 'error');
const warnings = (issues: ConfigIssue[]) => issues.filter((i) => i.severity === 'warning');

describe('java.util.Properties syntax', () => {
  test('separators, comments, blanks, continuations, escapes', () => {
    const text = [
      'a=1', // 1
      'b:2', // 2
      'c 3', // 3
      '  d  =  4  ', // 4
      '# comment', // 5
      '! also comment', // 6
      '', // 7
      'e = x \\', // 8
      '    y', // 9
      'f=\\u0041\\tB\\=', // 10
      'g\\ h=i', // 11
      'j', // 12
      'k=a\\\\', // 13: even number of backslashes: no continuation
      'l=m', // 14
    ].join('\n');
    expect(parseProperties(text)).toEqual([
      { key: 'a', value: '1', line: 1 },
      { key: 'b', value: '2', line: 2 },
      { key: 'c', value: '3', line: 3 },
      { key: 'd', value: '4  ', line: 4 },
      { key: 'e', value: 'x y', line: 8 },
      { key: 'f', value: 'A\tB=', line: 10 },
      { key: 'g h', value: 'i', line: 11 },
      { key: 'j', value: '', line: 12 },
      { key: 'k', value: 'a\\', line: 13 },
      { key: 'l', value: 'm', line: 14 },
    ]);
  });

  test('CRLF line endings', () => {
    expect(parseProperties('a=1\r\nb=2\r\n')).toEqual([
      { key: 'a', value: '1', line: 1 },
      { key: 'b', value: '2', line: 2 },
    ]);
  });
});

describe('parseZooCfg', () => {
  test("ZooKeeper's sample zoo.cfg parses cleanly with ZooKeeper's defaults", () => {
    const { config, issues } = parseZooCfg(ZK_SAMPLE);
    expect(issues).toEqual([]);
    expect(config).toMatchObject({
      tickTime: 2000,
      initLimit: 10,
      syncLimit: 5,
      dataDir: '/tmp/zookeeper',
      clientPort: 2181,
      maxClientCnxns: 60,
      minSessionTimeout: 4000,
      maxSessionTimeout: 40000,
      autopurgeSnapRetainCount: 3,
      autopurgePurgeInterval: 0,
      juteMaxBuffer: 0xfffff,
      snapCount: 100000,
      globalOutstandingLimit: 1000,
      extendedTypesEnabled: true,
      reconfigEnabled: false,
      standaloneEnabled: true,
      servers: [],
      quorumMode: false,
    });
    expect(config.fourLetterWordWhitelist).toEqual([...DEFAULT_FOUR_LETTER_WHITELIST]);
  });

  test('session timeouts default from tickTime, wherever tickTime appears', () => {
    const { config } = parseZooCfg('dataDir=/d\nclientPort=1\ntickTime=100\n');
    expect([config.minSessionTimeout, config.maxSessionTimeout]).toEqual([200, 2000]);
  });

  test('explicit values and the optional keys', () => {
    const { config, issues } = parseZooCfg(
      [
        'dataDir=/d',
        'dataLogDir=/l',
        'clientPort=2281',
        'clientPortAddress=127.0.0.1',
        'maxClientCnxns=0',
        'minSessionTimeout=1000',
        'maxSessionTimeout=90000',
        'autopurge.snapRetainCount=5',
        'autopurge.purgeInterval=24',
        '4lw.commands.whitelist=stat, ruok , conf',
        'jute.maxbuffer=0x400000',
        'snapCount=5000',
        'globalOutstandingLimit=77',
        'DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=',
        'extendedTypesEnabled=false',
        'reconfigEnabled=TRUE',
      ].join('\n'),
    );
    // reconfigEnabled is read, and warns that reconfig itself is answered ReconfigDisabled.
    expect(issues.map((i) => [i.severity, i.key])).toEqual([['warning', 'reconfigEnabled']]);
    expect(config).toMatchObject({
      dataLogDir: '/l',
      clientPort: 2281,
      clientPortAddress: '127.0.0.1',
      maxClientCnxns: 0,
      minSessionTimeout: 1000,
      maxSessionTimeout: 90000,
      autopurgeSnapRetainCount: 5,
      autopurgePurgeInterval: 24,
      fourLetterWordWhitelist: ['stat', 'ruok', 'conf'],
      juteMaxBuffer: 0x400000,
      snapCount: 5000,
      globalOutstandingLimit: 77,
      superDigest: 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=',
      extendedTypesEnabled: false,
      reconfigEnabled: true,
    });
  });

  test('malformed numbers and booleans are errors with their line numbers', () => {
    const { issues } = parseZooCfg('dataDir=/d\nclientPort=abc\ntickTime=2s\nmaxClientCnxns=99999999999\nreconfigEnabled=yes\nclientPort=70000\n');
    expect(errors(issues).map((i) => [i.line, i.key])).toEqual([
      [2, 'clientPort'],
      [3, 'tickTime'],
      [4, 'maxClientCnxns'],
      [5, 'reconfigEnabled'],
      [6, 'clientPort'],
    ]);
    expect(errors(issues)[1]!.message).toContain("'2s'");
  });

  test('min > max session timeout is an error on the later line', () => {
    const { issues } = parseZooCfg('dataDir=/d\nclientPort=1\nmaxSessionTimeout=3000\nminSessionTimeout=5000\n');
    expect(errors(issues)).toEqual([
      { line: 4, key: 'minSessionTimeout', severity: 'error', message: 'minSessionTimeout (5000) must not be larger than maxSessionTimeout (3000)' },
    ]);
  });

  test('missing dataDir is an error unless not required', () => {
    expect(errors(parseZooCfg('clientPort=1').issues).map((i) => i.message)).toEqual(['dataDir is not set']);
    expect(errors(parseZooCfg('clientPort=1', { requireDataDir: false }).issues)).toEqual([]);
    expect(parseZooCfg('clientPort=1', { requireDataDir: false }).config.dataDir).toBe('');
  });

  test('snapRetainCount below 3 becomes 3 with a warning; negative purge interval means off', () => {
    const { config, issues } = parseZooCfg('dataDir=/d\nclientPort=1\nautopurge.snapRetainCount=1\nautopurge.purgeInterval=-4\n');
    expect(config.autopurgeSnapRetainCount).toBe(3);
    expect(config.autopurgePurgeInterval).toBe(0);
    expect(warnings(issues).map((i) => i.line)).toEqual([3]);
  });

  test('unknown keys and known-but-ignored keys are warnings; operations keys are read', () => {
    const { config, issues } = parseZooCfg(
      'dataDir=/d\nclientPort=1\nadmin.enableServer=false\nmetricsProvider.httpPort=7000\naudit.enable=true\nsyncEnabled=true\nfrobnicate=1\n',
    );
    expect(errors(issues)).toEqual([]);
    const w = warnings(issues);
    expect(w.map((i) => i.line)).toEqual([6, 7]);
    expect(w[0]!.message).toContain('ignored');
    expect(w[1]!.message).toMatch(/unknown key frobnicate/);
    expect([config.operations.admin.enabled, config.operations.metrics.httpPort, config.operations.auditEnabled]).toEqual([false, 7000, true]);
  });

  test('security keys that are not implemented are errors, not warnings (fail closed)', () => {
    const { issues } = parseZooCfg('dataDir=/d\nclientPort=1\nadmin.forceHttps=true\nssl.crl=true\n');
    expect(errors(issues).map((i) => [i.line, i.key])).toEqual([[3, 'admin.forceHttps'], [4, 'ssl.crl']]);
  });

  test('a key set twice warns and the later value wins', () => {
    const { config, issues } = parseZooCfg('dataDir=/d\nclientPort=1\nclientPort=2\n');
    expect(config.clientPort).toBe(2);
    expect(warnings(issues)).toHaveLength(1);
    expect(warnings(issues)[0]!.line).toBe(3);
  });

  test('clientPortAddress without clientPort is an error', () => {
    expect(errors(parseZooCfg('dataDir=/d\nclientPortAddress=0.0.0.0\n').issues).map((i) => i.line)).toEqual([2]);
  });

  test('relative dirs resolve against baseDir', () => {
    const { config } = parseZooCfg('dataDir=data\ndataLogDir=../log\nclientPort=1', { baseDir: '/srv/zk' });
    expect(config.dataDir).toBe('/srv/zk/data');
    expect(config.dataLogDir).toBe('/srv/log');
  });
});

describe('server lines', () => {
  const base = 'dataDir=/d\nclientPort=2181\n';

  test('every accepted form', () => {
    const { config, issues } = parseZooCfg(
      base +
        [
          'server.1=zk1:2888:3888',
          'server.2=zk2:2888:3888:participant;2181',
          'server.3=zk3:2888:3888:observer;0.0.0.0:2181',
          'server.4=[::1]:2888:3888;[::1]:2182',
          'server.5=10.0.0.5:2888:3888:OBSERVER',
        ].join('\n'),
    );
    expect(issues).toEqual([]);
    expect(config.quorumMode).toBe(true);
    expect(config.servers).toEqual([
      { id: 1, host: 'zk1', quorumPort: 2888, electionPort: 3888, role: 'participant' },
      { id: 2, host: 'zk2', quorumPort: 2888, electionPort: 3888, role: 'participant', clientPort: 2181 },
      { id: 3, host: 'zk3', quorumPort: 2888, electionPort: 3888, role: 'observer', clientHost: '0.0.0.0', clientPort: 2181 },
      { id: 4, host: '::1', quorumPort: 2888, electionPort: 3888, role: 'participant', clientHost: '::1', clientPort: 2182 },
      { id: 5, host: '10.0.0.5', quorumPort: 2888, electionPort: 3888, role: 'observer' },
    ]);
  });

  test.each([
    ['server.1=zk1:2888', 'host:quorumPort:electionPort'],
    ['server.1=zk1', 'host:quorumPort:electionPort'],
    ['server.1=zk1:2888:3888:leader', "peer type 'leader'"],
    ['server.1=zk1:x:3888', 'port number'],
    ['server.1=zk1:2888:99999', 'out of range'],
    ['server.x=zk1:2888:3888', 'not a number'],
    ['server.300=zk1:2888:3888', 'out of range'],
    ['server.1=zk1:2888:3888;a:b:c', 'bad client address'],
    ['server.1=zk1:2888:3888|zk1b:2888:3888', "multiple addresses"],
    ['server.1=:2888:3888', 'host:quorumPort:electionPort'],
  ])('%s is an error on its line', (line, fragment) => {
    const { issues } = parseZooCfg(base + line + '\n');
    const errs = errors(issues);
    expect(errs).toHaveLength(1);
    expect(errs[0]!.line).toBe(3);
    expect(errs[0]!.message).toContain(fragment);
  });

  test('duplicate server ids are errors naming the first line', () => {
    const { issues } = parseZooCfg(base + 'server.1=a:1:2\nserver.2=b:1:2\nserver.1=c:1:2\n');
    expect(errors(issues)).toEqual([{ line: 5, key: 'server.1', severity: 'error', message: 'duplicate server id 1 (first defined on line 3)' }]);
  });

  test('a single server runs standalone (with a warning) unless standaloneEnabled=false', () => {
    const one = parseZooCfg(base + 'server.1=a:1:2\n');
    expect(one.config.quorumMode).toBe(false);
    expect(warnings(one.issues).map((i) => i.line)).toEqual([3]);
    const forced = parseZooCfg(base + 'standaloneEnabled=false\nserver.1=a:1:2\n');
    expect(forced.config.quorumMode).toBe(true);
  });

  test('peerType', () => {
    expect(parseZooCfg(base + 'peerType=observer').config.peerType).toBe('observer');
    expect(errors(parseZooCfg(base + 'peerType=leader').issues)).toHaveLength(1);
  });
});

describe('loadConfig / assertNoErrors', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zabkeeper-cfg-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string): string => {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
    return p;
  };
  const ensemble = (dataDir: string) =>
    `dataDir=${dataDir}\nclientPort=2181\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\nserver.3=127.0.0.1:2890:3890\n`;

  test('reads myid from dataDir', () => {
    write('data/myid', '2\n');
    const r = loadConfig(write('zoo.cfg', ensemble(path.join(dir, 'data'))));
    expect(errors(r.issues)).toEqual([]);
    expect(r.config.myid).toBe(2);
  });

  test('missing myid in an ensemble is an error; in standalone it is fine', () => {
    const r = loadConfig(write('zoo.cfg', ensemble(path.join(dir, 'data'))));
    expect(errors(r.issues).map((i) => [i.line, i.message])).toEqual([[1, `${path.join(dir, 'data', 'myid')} file is missing`]]);
    const s = loadConfig(write('s.cfg', `dataDir=${dir}/x\nclientPort=1\n`));
    expect(s.issues).toEqual([]);
    expect(s.config.myid).toBeUndefined();
  });

  test('bad myid and myid not in the server list are errors', () => {
    write('data/myid', 'two\n');
    expect(errors(loadConfig(write('zoo.cfg', ensemble(path.join(dir, 'data')))).issues)[0]!.message).toContain("'two' is not a number");
    write('data/myid', '9');
    expect(errors(loadConfig(write('zoo.cfg', ensemble(path.join(dir, 'data')))).issues)[0]!.message).toContain('not in the server list');
  });

  test('relative dataDir resolves against the process cwd', () => {
    const r = loadConfig(write('zoo.cfg', 'dataDir=rel/dir\nclientPort=1\n'));
    expect(r.config.dataDir).toBe(path.resolve(process.cwd(), 'rel/dir'));
  });

  test('assertNoErrors throws ConfigError listing every error as file:LINE: message', () => {
    const file = write('zoo.cfg', 'dataDir=/d\nclientPort=x\nfoo=1\ntickTime=-\n');
    const result = loadConfig(file);
    let caught: unknown;
    try {
      assertNoErrors(result, file);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const e = caught as ConfigError;
    expect(e.issues).toHaveLength(2);
    expect(e.message).toContain("zoo.cfg:2: clientPort must be a port number, got 'x'");
    expect(e.message).toContain('zoo.cfg:4: tickTime must be an integer');
    expect(e.message).not.toContain('foo');
    expect(assertNoErrors(parseZooCfg(ZK_SAMPLE), 'zoo.cfg').dataDir).toBe('/tmp/zookeeper');
  });
});

describe('shipped sample configs', () => {
  const root = path.resolve(__dirname, '../../config');
  test('config/zoo.cfg is clean', () => {
    const { config, issues } = parseZooCfg(fs.readFileSync(path.join(root, 'zoo.cfg'), 'utf8'));
    expect(issues).toEqual([]);
    expect(config.clientPort).toBe(2181);
  });
  test.each([1, 2, 3])('config/ensemble-3/zoo%d.cfg is clean and a 3-node ensemble', (n) => {
    const { config, issues } = parseZooCfg(fs.readFileSync(path.join(root, `ensemble-3/zoo${n}.cfg`), 'utf8'));
    expect(issues).toEqual([]);
    expect(config.quorumMode).toBe(true);
    expect(config.servers.map((s) => s.id)).toEqual([1, 2, 3]);
    expect(config.clientPort).toBe(2180 + n);
    expect(config.servers[n - 1]!.clientPort).toBe(2180 + n);
  });
});

/**
 * ZooKeeper 3.5+'s client address rules (QuorumPeerConfig.setupClientPort): this server's own
 * `server.N=...;[host:]port` line gives the client port, with or without a `clientPort` key; when
 * both are present they must agree (a wildcard clientPortAddress only compares ports).
 */
describe('client address: the 3.5+ server line form', () => {
  const loopback = (myid: string, extra = '') => {
    const r = parseZooCfg(
      'tickTime=2000\ninitLimit=5\nsyncLimit=2\ndataDir=/data\n' +
        extra +
        'server.1=127.0.0.1:2888:3888;2181\nserver.2=127.0.0.1:2889:3889;2182\nserver.3=127.0.0.1:2890:3890;2183\n',
    );
    applyMyId(r, myid, '/data/myid', 4);
    return r;
  };

  test("the official image's form (no clientPort key): each member binds its own server line's port", () => {
    for (const id of ['1', '2', '3']) {
      const r = loopback(id);
      expect(errors(r.issues)).toEqual([]);
      expect(resolveClientAddress(r.config)).toEqual({ address: { host: '0.0.0.0', port: 2180 + Number(id) } });
      const o = optionsFromConfig(r.config);
      expect([o.host, o.port]).toEqual(['0.0.0.0', 2180 + Number(id)]);
    }
  });

  test("the official image's literal file (every member on its own host, all ;2181)", () => {
    const r = parseZooCfg(
      'dataDir=/data\ndataLogDir=/datalog\ntickTime=2000\ninitLimit=5\nsyncLimit=2\nautopurge.snapRetainCount=3\nautopurge.purgeInterval=0\n' +
        'maxClientCnxns=60\nstandaloneEnabled=true\nadmin.enableServer=true\n' +
        'server.1=zoo1:2888:3888;2181\nserver.2=zoo2:2888:3888;2181\nserver.3=zoo3:2888:3888;2181\n',
    );
    applyMyId(r, '2\n', '/data/myid', 1);
    expect(errors(r.issues)).toEqual([]);
    expect(r.config.quorumMode).toBe(true);
    expect(optionsFromConfig(r.config).port).toBe(2181);
  });

  test('a client host on the server line is the bind address', () => {
    const r = parseZooCfg('dataDir=/d\nserver.1=a:1:2;127.0.0.5:3000\nserver.2=b:1:2;127.0.0.6:3001\n');
    applyMyId(r, '2', '/d/myid', 1);
    expect(resolveClientAddress(r.config).address).toEqual({ host: '127.0.0.6', port: 3001 });
  });

  test('clientPort alone (3.4 form, no client part on the line) is used', () => {
    const r = parseZooCfg('dataDir=/d\nclientPort=2281\nclientPortAddress=127.0.0.1\nserver.1=a:1:2\nserver.2=b:1:2\n');
    applyMyId(r, '1', '/d/myid', 1);
    expect(errors(r.issues)).toEqual([]);
    expect(resolveClientAddress(r.config).address).toEqual({ host: '127.0.0.1', port: 2281 });
  });

  test('clientPort that agrees with the server line is fine (wildcard: same port; address: same address)', () => {
    expect(errors(loopback('2', 'clientPort=2182\n').issues)).toEqual([]);
    expect(errors(loopback('2', 'clientPort=2182\nclientPortAddress=0.0.0.0\n').issues)).toEqual([]);
    const r = parseZooCfg('dataDir=/d\nclientPort=2182\nclientPortAddress=127.0.0.1\nserver.1=h:1:2;127.0.0.1:2181\nserver.2=h:3:4;127.0.0.1:2182\n');
    applyMyId(r, '2', '/d/myid', 1);
    expect(errors(r.issues)).toEqual([]);
    expect(resolveClientAddress(r.config).address).toEqual({ host: '127.0.0.1', port: 2182 });
  });

  test('clientPort that disagrees with this server line is an error naming both lines', () => {
    const r = loopback('2', 'clientPort=2181\n');
    expect(errors(r.issues)).toEqual([
      {
        line: 7,
        key: 'server.2',
        severity: 'error',
        message: 'server.2 gives client address 0.0.0.0:2182 but clientPort (line 5) gives 0.0.0.0:2181; remove clientPort or make them agree',
      },
    ]);
    // Only this server's own line counts: member 1 agrees with clientPort=2181.
    expect(errors(loopback('1', 'clientPort=2181\n').issues)).toEqual([]);
  });

  test('a specific clientPortAddress must equal the line address (ZooKeeper compares the whole address)', () => {
    const r = loopback('2', 'clientPort=2182\nclientPortAddress=127.0.0.1\n');
    expect(errors(r.issues).map((i) => i.message)).toEqual([
      'server.2 gives client address 0.0.0.0:2182 but clientPort (line 5) and clientPortAddress (line 6) give 127.0.0.1:2182; remove clientPort or make them agree',
    ]);
  });

  test('clientPort=0 means "not set", as in ZooKeeper', () => {
    const r = loopback('3', 'clientPort=0\n');
    expect(errors(r.issues)).toEqual([]);
    expect(resolveClientAddress(r.config).address).toEqual({ host: '0.0.0.0', port: 2183 });
  });

  test("a single server line with myid runs standalone on that line's port (the image's default ZOO_SERVERS)", () => {
    const r = parseZooCfg('dataDir=/data\nserver.1=localhost:2888:3888;2181\n');
    applyMyId(r, '1', '/data/myid', 1);
    expect(r.config.quorumMode).toBe(false);
    expect(resolveClientAddress(r.config).address).toEqual({ host: '0.0.0.0', port: 2181 });
  });

  test('no client port anywhere: nothing to bind (the CLI refuses to start)', () => {
    const r = parseZooCfg('dataDir=/d\nserver.1=a:1:2\nserver.2=b:1:2\n');
    applyMyId(r, '1', '/d/myid', 1);
    expect(resolveClientAddress(r.config).address).toBeUndefined();
    expect(() => optionsFromConfig(r.config)).toThrow(/no client port/);
    expect(optionsFromConfig(r.config, { port: 2999 }).port).toBe(2999);
  });
});
