import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assertNoErrors, loadConfig, parseJvmFlags, parseZooCfg, resolveClientAddress, type ConfigIssue } from '../../src/config';
import { optionsFromConfig } from '../../src/server/fromConfig';

/**
 * zoo.cfg files and JVM flags that a running Apache ZooKeeper left or was started with configure the
 * same server under zabkeeper (a dynamicConfigFile's server lines, -Djute.maxbuffer and the other
 * system-property keys, the default tickTime), and what zabkeeper cannot do refuses instead of
 * quietly running something else (hierarchical quorums, an unreadable dynamic file).
 */
const errors = (issues: ConfigIssue[]) => issues.filter((i) => i.severity === 'error');
const warnings = (issues: ConfigIssue[]) => issues.filter((i) => i.severity === 'warning');

describe('dynamicConfigFile (what ZooKeeper 3.5+ rewrites zoo.cfg to once reconfigEnabled is on)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-dyncfg-'));
    fs.mkdirSync(path.join(dir, 'data'));
    fs.writeFileSync(path.join(dir, 'data', 'myid'), '2\n');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const SERVERS = 'server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\nserver.2=127.0.0.1:2889:3889:participant;0.0.0.0:2182\nserver.3=127.0.0.1:2890:3890:participant;0.0.0.0:2183\n';
  /** zoo.cfg as editStaticConfig writes it: no server lines, clientPort kept, a pointer to the dynamic file. */
  const rewritten = (dyn: string, extra = '') =>
    `tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=${dir}/data\nclientPort=2182\nreconfigEnabled=true\nstandaloneEnabled=false\n${extra}dynamicConfigFile=${dyn}\n`;
  const write = (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };

  test('its server lines make this member of the 3-member ensemble it was (never a standalone server)', () => {
    const dyn = write('zoo.cfg.dynamic.100000000', SERVERS);
    const cfg = write('zoo.cfg', rewritten(dyn));
    const r = loadConfig(cfg);
    expect(errors(r.issues)).toEqual([]);
    expect(r.config.quorumMode).toBe(true);
    expect(r.config.myid).toBe(2);
    expect(r.config.servers.map((s) => [s.id, s.quorumPort])).toEqual([[1, 2888], [2, 2889], [3, 2890]]);
    const o = optionsFromConfig(assertNoErrors(r, cfg));
    expect(o.ensemble?.servers).toHaveLength(3);
    expect([o.host, o.port]).toEqual(['0.0.0.0', 2182]);
  });

  test('the client port may come from the dynamic file alone (editStaticConfig erased clientPort)', () => {
    const dyn = write('zoo.cfg.dynamic.100000000', SERVERS);
    const r = loadConfig(write('zoo.cfg', rewritten(dyn).replace('clientPort=2182\n', '')));
    expect(errors(r.issues)).toEqual([]);
    expect(resolveClientAddress(r.config).address).toEqual({ host: '0.0.0.0', port: 2182 });
  });

  test('a dynamic file ZooKeeper would refuse is refused, naming that file and its line', () => {
    const dyn = write('zoo.cfg.dynamic.1', `${SERVERS}version=100000000\nclientPort=1\n`);
    const r = loadConfig(write('zoo.cfg', rewritten(dyn)));
    expect(errors(r.issues).map((i) => [path.basename(i.file ?? 'zoo.cfg'), i.line, i.key])).toEqual([
      ['zoo.cfg.dynamic.1', 4, 'version'],
      ['zoo.cfg.dynamic.1', 5, 'clientPort'],
    ]);
    expect(() => assertNoErrors(r, path.join(dir, 'zoo.cfg'))).toThrow(/zoo\.cfg\.dynamic\.1:4: a dynamic config file must not hold version/);
  });

  test('server lines left in zoo.cfg beside dynamicConfigFile are refused (ZooKeeper: "must be in a separate dynamic config file")', () => {
    const dyn = write('zoo.cfg.dynamic.100000000', SERVERS);
    const r = loadConfig(write('zoo.cfg', rewritten(dyn, 'server.9=127.0.0.1:1:2\n')));
    expect(errors(r.issues).map((i) => [i.file, i.line, i.key])).toEqual([[undefined, 8, 'server.9']]);
  });

  test('a missing dynamic file stops the start instead of running without the server list', () => {
    const r = loadConfig(write('zoo.cfg', rewritten(path.join(dir, 'gone.dynamic'))));
    expect(errors(r.issues).map((i) => [i.line, i.message.split(':')[0]])).toContainEqual([8, `cannot read dynamicConfigFile ${path.join(dir, 'gone.dynamic')}`]);
  });

  test('a relative dynamicConfigFile resolves against the process cwd, as ZooKeeper opens it', () => {
    const dyn = write('zoo.cfg.dynamic.100000000', SERVERS);
    const r = loadConfig(write('zoo.cfg', rewritten(path.relative(process.cwd(), dyn))));
    expect(errors(r.issues)).toEqual([]);
    expect(r.config.dynamicConfigFile).toBe(dyn);
  });
});

describe('refused rather than silently different', () => {
  test('hierarchical quorums (group.N / weight.N) refuse to start, in zoo.cfg or a dynamic file', () => {
    const r = parseZooCfg('dataDir=/d\nclientPort=1\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\ngroup.1=1:2\ngroup.2=3\nweight.3=0\n');
    expect(errors(r.issues).map((i) => [i.line, i.key])).toEqual([[6, 'group.1'], [7, 'group.2'], [8, 'weight.3']]);
    expect(errors(r.issues)[0]!.message).toContain('hierarchical quorums');
    const d = parseZooCfg('dataDir=/d\nclientPort=1\ndynamicConfigFile=x\n', { dynamicConfig: { text: 'server.1=a:1:2\nweight.1=2\n', file: '/c/zoo.cfg.dynamic.1' } });
    expect(errors(d.issues).map((i) => [i.file, i.line, i.key])).toEqual([['/c/zoo.cfg.dynamic.1', 2, 'weight.1']]);
  });

  test('standaloneEnabled=false with no server list is an error (ZooKeeper: participants must be > 0)', () => {
    expect(errors(parseZooCfg('dataDir=/d\nclientPort=1\nstandaloneEnabled=false\n').issues).map((i) => [i.line, i.key])).toEqual([[3, 'standaloneEnabled']]);
  });

  test('reconfigEnabled=true warns that reconfig is answered ReconfigDisabled', () => {
    expect(warnings(parseZooCfg('dataDir=/d\nclientPort=1\nreconfigEnabled=true\n').issues).map((i) => [i.line, i.key])).toEqual([[3, 'reconfigEnabled']]);
  });
});

describe("JVM flags ZooKeeper reads as system properties (SERVER_JVMFLAGS / JVMFLAGS)", () => {
  const withFlags = (cfg: string, flags: string) => parseZooCfg(`dataDir=/d\nclientPort=1\n${cfg}`, { jvmFlags: parseJvmFlags(flags, 'SERVER_JVMFLAGS') });

  test('-Djute.maxbuffer (no zookeeper. prefix, the documented way to raise it) sets the frame limit', () => {
    const r = withFlags('', '-Xmx1g -Djute.maxbuffer=4194304');
    expect(r.issues).toEqual([]);
    expect(optionsFromConfig(r.config).maxFrameBytes).toBe(4194304);
  });

  test('-Dzookeeper.<key> sets what zoo.cfg would turn into that property; a zoo.cfg line still wins', () => {
    const r = withFlags('snapCount=5000\n', '-Dzookeeper.snapCount=777 -Dzookeeper.globalOutstandingLimit=50 -Dzookeeper.4lw.commands.whitelist=* -Dzookeeper.DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU= -Dzookeeper.admin.serverPort=9090');
    expect(r.issues).toEqual([]);
    expect(r.config).toMatchObject({ snapCount: 5000, globalOutstandingLimit: 50, fourLetterWordWhitelist: ['*'], superDigest: 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=' });
    expect(r.config.operations.admin.port).toBe(9090);
  });

  test('a bad flag value is an error naming the flag; keys ZooKeeper parses itself still only warn', () => {
    const r = withFlags('', '-Djute.maxbuffer=lots -Dzookeeper.tickTime=10');
    expect(errors(r.issues).map((i) => i.message)).toEqual(["-Djute.maxbuffer (SERVER_JVMFLAGS) must be an integer, got 'lots'"]);
    expect(warnings(r.issues).map((i) => i.message)).toEqual(['-Dzookeeper.tickTime in SERVER_JVMFLAGS is not read by zabkeeper; put tickTime in zoo.cfg if it matters']);
  });
});

test("a zoo.cfg without tickTime gets ZooKeeper's 3000 ms (Kafka's zookeeper.properties: sessions 6-60 s)", () => {
  const { config, issues } = parseZooCfg('dataDir=/tmp/zookeeper\nclientPort=2181\nmaxClientCnxns=0\nadmin.enableServer=false\n');
  expect(issues).toEqual([]);
  expect([config.tickTime, config.minSessionTimeout, config.maxSessionTimeout]).toEqual([3000, 6000, 60000]);
});

test("the dynamic file's version is the hex after its name's last dot, as ZooKeeper reads it (0 without one)", () => {
  const version = (file: string) => parseZooCfg('dataDir=/d\ndynamicConfigFile=x\n', { dynamicConfig: { text: 'server.1=a:1:2;3\n', file } }).config.configVersion;
  expect(['/c/zoo.cfg.dynamic.100000000', '/c/zoo.cfg.dynamic.0001f', '/c/zoo.cfg.dynamic', '/c/zoo.cfg.dynamic.next', 'abc', '/c/x.ffffffffffffffff'].map(version)).toEqual([
    '100000000', '1f', '0', '0', '0', '0',
  ]);
  expect(parseZooCfg('dataDir=/d\nclientPort=1\n').config.configVersion).toBe('0');
});

test('quorumListenOnAllIPs=true (common in container setups whose own host name is not a local address) is read, not ignored', () => {
  const on = parseZooCfg('dataDir=/d\nclientPort=1\ninitLimit=5\nsyncLimit=2\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\nquorumListenOnAllIPs=true\n');
  expect(on.issues).toEqual([]);
  on.config.myid = 1;
  expect(optionsFromConfig(on.config).ensemble?.quorumListenOnAllIPs).toBe(true);
  expect(parseZooCfg('dataDir=/d\nclientPort=1\n').config.quorumListenOnAllIPs).toBe(false);
  expect(errors(parseZooCfg('dataDir=/d\nclientPort=1\nquorumListenOnAllIPs=yes\n').issues).map((i) => i.line)).toEqual([3]);
});
