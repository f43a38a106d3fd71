/**
 * The key compatibility check: the same command scripts go through Apache's zkCli.sh and through
 * `zabkeeper shell`, each against its own fresh server of the same kind, and the transcripts
 * (stdout and stderr merged, normalized by test/compat/zkcli.ts) must be identical. The
 * transcript of the main script must also equal the golden one recorded from Apache 3.8.
 *
 * The only line allowed to differ is `version` (zkCli prints the Java client's build).
 *
 * Targets: ZK_COMPAT_TARGETS when set (ensembles included); by default the two standalone kinds,
 * because the shell's behaviour does not depend on replication (test/compat/zkcli.test.ts runs
 * zkCli itself against the ensembles) and two ensembles per run would double this suite's time.
 */
import * as fs from 'fs';
import * as path from 'path';
import { compatTargets, isEnsemble, startServer, TestServer } from '../harness/servers';
import { goldenScript, normalize, render, runZkCli } from '../compat/zkcli';
import { runShellMerged } from './helpers';

const GOLDEN = path.join(__dirname, '..', 'compat', 'golden', 'zkcli.txt');


/**
 * Corners of zkCli's parsing and error reporting: commons-cli errors, usage lines, deprecated
 * forms, client-side path checks, ACL warnings, quotas, history/redo, close + "Not connected".
 * Avoids what crashes zkCli's JVM (checked separately in modes.test.ts).
 */
const edgeScript = (port: number): string[] => [
  'ls -x /', 'ls', 'set -v /a', 'get', 'create', 'bogus cmd', 'history', 'redo 1', 'redo 99', 'redo', 'ls -?',
  'create /q "hello world"', 'get /q', "get '/q'", 'create -c -s /cc', 'create -t abc /tt', 'create -t 0 /tt', 'create -e -t 5 /tt',
  'create -s /seqdir/', 'create /bad//path', 'create /bad/./x', 'create /zz data world:anyone:cdrwax', 'create /zz2 data bogus',
  'create /emptyacl x ,', 'getAcl /zz', 'delete /zz 1', 'get /zz 1', 'stat /zz 1', 'ls / 1', 'get -s /q 1', 'getAllChildrenNumber',
  'sync', 'version x', 'config -c', 'reconfig', 'reconfig -add 1=foo:1:2;3', 'setquota /q', 'setquota -n 0 /q',
  'setquota -n 1 -b 2 /q', 'setquota -n 5 /missing', 'create /qq', 'create /qq/a', 'setquota -n 5 /qq', 'listquota /qq',
  'setquota -B 100 /qq', 'listquota /qq', 'setquota -n 1 /qq', 'setquota -n 2 /qq/a', 'setquota -n 2 /', 'delquota -n /qq',
  'listquota /qq', 'delquota /qq', 'listquota /qq', 'delquota /qq', 'listquota /nope', 'removewatches /zz', 'removewatches /missing',
  'addWatch -m bogus /a', 'addWatch -m persistent /q', 'printwatches foo', 'printwatches', 'printwatches on',
  'get -sx /q', 'delete -v5 /nope', 'create /neg -1', 'setAcl -R /q world:anyone:cdrwa', 'deleteall /q -b x', 'deleteall /nope',
  'set /missing x', 'ls /missing', 'getAcl /missing', 'ls -R /missing', 'create -e /e1', 'create -e -s /e2-', 'create /e1/child',
  'getEphemerals /e1', 'getEphemerals /e1/x', 'history', 'redo 80', 'close', 'history', 'printwatches', 'ls /', 'redo 12',
  `connect 127.0.0.1:${port}`, '   ', "'", 'sync /', 'ls /', 'quit',
];

const maskVersion = (text: string) => text.replace(/^ZooKeeper CLI version: .*$/m, 'ZooKeeper CLI version: <VERSION>');
/** `config -c` lists the ensemble's client addresses, whose ports differ between the two ensembles. */
const maskPorts = (text: string) => text.replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<PORT>');

const targets = process.env.ZK_COMPAT_TARGETS ? compatTargets() : compatTargets().filter((k) => !isEnsemble(k));

describe.each(targets)('zabkeeper shell vs zkCli.sh against %s', (kind) => {
  const servers: TestServer[] = [];
  let zkcli: { golden: string; edge: string };
  let ours: { golden: string; edge: string; goldenRaw: string };

  beforeAll(async () => {
    // One fresh server per tool, so both see the same initial state and sequence numbers.
    const [forZkCli, forShell] = await Promise.all([0, 1].map(() => startServer(kind, { extraCfg: { extendedTypesEnabled: 'true' } })));
    servers.push(forZkCli!, forShell!);
    const viaZkCli = async () => {
      const golden = await runZkCli(forZkCli!.connectString, goldenScript(forZkCli!.port));
      const edge = await runZkCli(forZkCli!.connectString, edgeScript(forZkCli!.port));
      return { golden, edge };
    };
    const viaShell = async () => {
      const golden = (await runShellMerged(forShell!.connectString, goldenScript(forShell!.port))).stdout;
      const edge = (await runShellMerged(forShell!.connectString, edgeScript(forShell!.port))).stdout;
      return { golden, edge };
    };
    const [a, b] = await Promise.all([viaZkCli(), viaShell()]);
    zkcli = { golden: render(normalize(a.golden)), edge: maskPorts(render(normalize(a.edge))) };
    ours = { golden: render(normalize(b.golden)), edge: maskPorts(render(normalize(b.edge))), goldenRaw: b.golden };
  }, 90_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  test('main script: same normalized transcript as zkCli.sh', () => {
    expect(maskVersion(ours.golden)).toBe(maskVersion(zkcli.golden));
  });

  test('main script: equals the golden transcript recorded from Apache 3.8', () => {
    expect(maskVersion(ours.golden)).toBe(maskVersion(fs.readFileSync(GOLDEN, 'utf8')));
  });

  test('main script: zkCli layout details (blank line before WATCHER:: and the event)', () => {
    expect(ours.goldenRaw).toContain('\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/a\n');
    expect(ours.goldenRaw).toMatch(/^ZooKeeper CLI version: 3\.8\.0-zabkeeper-\S+$/m);
  });

  test('parsing, usage and error corners: same transcript as zkCli.sh', () => {
    expect(ours.edge).toBe(zkcli.edge);
  });
});
