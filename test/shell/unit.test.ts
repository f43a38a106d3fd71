/**
 * The shell's pure parts: zkCli's tokenizer, the commons-cli option parser port, the Java output
 * formats, ACL and quota syntax, launch options and the tab completer.
 */
import fc from 'fast-check';
import { parseAcl, javaSplit } from '../../src/shell/acl';
import { parseOptions, helpText, CliParseError, type OptionsSpec } from '../../src/shell/cliparse';
import { clientConfigString, javaParseInt, JavaCrash, SERVER_COMMANDS } from '../../src/shell/commands';
import { cachedLister, completeLine } from '../../src/shell/complete';
import {
  cliErrorMessage,
  hex64,
  idString,
  javaDate,
  javaList,
  keeperMessage,
  permString,
  statLines,
  validatePath,
  watchedEventString,
} from '../../src/shell/format';
import { formatStatsTrack, parseStatsTrack } from '../../src/shell/quota';
import { COMMAND_NAMES, COMMAND_USAGE, javaDecode } from '../../src/shell/shell';
import { parseLaunchArgs, tokenize } from '../../src/shell/tokenize';
import { emptyStat } from '../../protocol/jute/data';

describe('tokenize (ZooKeeperMain ARGS_PATTERN)', () => {
  test.each([
    ['ls /', ['ls', '/']],
    ['  ls    -s   /a  ', ['ls', '-s', '/a']],
    ['create /q "hello world"', ['create', '/q', 'hello world']],
    ["create /q 'it is' x", ['create', '/q', 'it is', 'x']],
    ['set /a ""', ['set', '/a', '']],
    ['set /a x"y z"', ['set', '/a', 'x"y', 'z"']],
    ['get "/unterminated', ['get', '/unterminated']],
    ['   ', [' ']], // zkCli then reports "Command not found  "
    ["'", []],
  ])('%j', (line, words) => {
    expect(tokenize(line)).toEqual(words);
  });

  test('plain words round-trip', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z0-9/_-]{1,8}$/), { minLength: 1, maxLength: 6 }), (words) => {
        expect(tokenize(words.join(' '))).toEqual(words);
      }),
    );
  });
});

describe('parseOptions (commons-cli DefaultParser)', () => {
  const spec: OptionsSpec = {
    opts: [
      { name: 's', hasArg: false, description: 'stats' },
      { name: 'w', hasArg: false, description: 'watch' },
      { name: 'v', hasArg: true, description: 'version' },
      { name: 'members', hasArg: true, description: 'm' },
    ],
  };
  const parse = (line: string) => parseOptions(spec, line.split(' '));
  const err = (line: string) => {
    try {
      parse(line);
    } catch (e) {
      return (e as CliParseError).message;
    }
    return undefined;
  };

  test('flags anywhere, concatenated flags, attached and negative values, --', () => {
    const p = parse('set /a -s x -v 3');
    expect(p.args).toEqual(['set', '/a', 'x']);
    expect([...p.opts]).toEqual([['s', null], ['v', '3']]);
    expect([...parse('get -sw /a').opts.keys()]).toEqual(['s', 'w']);
    expect(parse('set -v5 /a d').opts.get('v')).toBe('5');
    expect(parse('set -v=7 /a d').opts.get('v')).toBe('7');
    expect(parse('set -v -1 /a d').opts.get('v')).toBe('-1');
    expect(parse('set -members a,b /a').opts.get('members')).toBe('a,b');
    expect(parse('set -- -s /a').args).toEqual(['set', '-s', '/a']);
    expect(parse('set - x').args).toEqual(['set', '-', 'x']);
  });

  test('errors carry commons-cli exception text', () => {
    expect(err('ls -x /')).toBe('org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -x');
    expect(err('get -sx /a')).toBe('org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -sx');
    expect(err('set /a -1')).toBe('org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -1');
    expect(err('set -v')).toBe('org.apache.commons.cli.MissingArgumentException: Missing argument for option: v');
    expect(err('set -v -s /a')).toBe('org.apache.commons.cli.MissingArgumentException: Missing argument for option: v');
    expect(err('ls --long')).toBe('org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: --long');
  });

  test('option groups: required and mutually exclusive', () => {
    const q: OptionsSpec = {
      opts: [
        { name: 'n', hasArg: true, description: 'num soft quota' },
        { name: 'b', hasArg: true, description: 'bytes soft quota' },
      ],
      groups: [{ names: ['n', 'b'], required: true }],
    };
    expect(() => parseOptions(q, ['setquota', '/a'])).toThrow(
      'org.apache.commons.cli.MissingOptionException: Missing required option: [-n num soft quota, -b bytes soft quota]',
    );
    expect(() => parseOptions(q, ['setquota', '-n', '1', '-b', '2', '/a'])).toThrow(
      "org.apache.commons.cli.AlreadySelectedException: The option 'b' was specified but an option from this group has already been selected: 'n'",
    );
  });

  test('ls -? help layout', () => {
    const ls = SERVER_COMMANDS.find((c) => c.name === 'ls')!;
    expect(helpText('ls [options] path', ls.options)).toEqual(['usage: ls [options] path', ' -?   help', ' -R   recurse', ' -s   stat', ' -w   watch']);
  });
});

describe('Java formats', () => {
  test('hex64 is Long.toHexString', () => {
    expect(hex64(0n)).toBe('0');
    expect(hex64(0x1a2bn)).toBe('1a2b');
    expect(hex64(-1n)).toBe('ffffffffffffffff');
    expect(hex64(-(2n ** 63n))).toBe('8000000000000000');
  });

  test('javaDate is Date.toString', () => {
    expect(javaDate(0n, 'UTC')).toBe('Thu Jan 01 00:00:00 UTC 1970');
    expect(javaDate(1795000000123n, 'UTC')).toBe('Wed Nov 18 11:06:40 UTC 2026');
    expect(javaDate(0, 'America/New_York')).toBe('Wed Dec 31 19:00:00 EST 1969');
  });

  test('stat block', () => {
    const s = { ...emptyStat(), czxid: 0x10n, mzxid: 0x11n, pzxid: 0x12n, version: 3, cversion: 2, aversion: 1, ephemeralOwner: 0x100000abcn, dataLength: 5, numChildren: 4 };
    expect(statLines(s, 'UTC')).toEqual([
      'cZxid = 0x10', 'ctime = Thu Jan 01 00:00:00 UTC 1970', 'mZxid = 0x11', 'mtime = Thu Jan 01 00:00:00 UTC 1970', 'pZxid = 0x12',
      'cversion = 2', 'dataVersion = 3', 'aclVersion = 1', 'ephemeralOwner = 0x100000abc', 'dataLength = 5', 'numChildren = 4',
    ]);
  });

  test('ACL ids print as jute CSV, permissions as cdrwa', () => {
    expect(idString({ scheme: 'world', id: 'anyone' }) + ': ' + permString(31)).toBe("'world,'anyone\n: cdrwa");
    expect(idString({ scheme: 'x', id: 'a,b%}' })).toBe("'x,'a%2Cb%25%7D\n");
    expect(permString(1 | 2 | 4 | 16)).toBe('crwa');
    expect(permString(0)).toBe('');
  });

  test('lists, events, error texts', () => {
    expect(javaList([])).toBe('[]');
    expect(javaList(['a', 'b'])).toBe('[a, b]');
    expect(watchedEventString('syncConnected', 'nodeDataChanged', '/a')).toBe('WatchedEvent state:SyncConnected type:NodeDataChanged path:/a');
    expect(watchedEventString('closed', 'none', null)).toBe('WatchedEvent state:Closed type:None path:null');
    expect(cliErrorMessage(-101, '/x')).toBe('Node does not exist: /x');
    expect(cliErrorMessage(-102, '/x')).toBe('Insufficient permission : /x');
    expect(cliErrorMessage(-114, null)).toBe('Acl is not valid : null');
    expect(cliErrorMessage(-121, '/x')).toBe('KeeperErrorCode = No such watcher for /x');
    expect(keeperMessage(-123, null)).toBe('KeeperErrorCode = Reconfig is disabled');
    expect(keeperMessage(-999, '/p')).toBe('KeeperErrorCode = Unknown error -999 for /p');
  });

  test.each([
    ['/', false, undefined],
    ['/a/b', false, undefined],
    ['/a/', true, undefined],
    ['', false, 'Path length must be > 0'],
    ['a', false, 'Path must start with / character'],
    ['/a/', false, 'Path must not end with / character'],
    ['/a//b', false, 'Invalid path string "/a//b" caused by empty node name specified @3'],
    ['/a/./b', false, 'Invalid path string "/a/./b" caused by relative paths not allowed @3'],
    ['/a/..', false, 'Invalid path string "/a/.." caused by relative paths not allowed @4'],
    ['/a..b', false, undefined],
    ['/a\u0001', false, 'Invalid path string "/a\u0001" caused by invalid character @2'],
    ['/a\u0000', false, 'Invalid path string "/a\u0000" caused by null character not allowed @2'],
  ])('validatePath(%j, seq=%s)', (p, seq, expected) => {
    expect(validatePath(p, seq)).toBe(expected);
  });
});

describe('ACL and quota syntax', () => {
  test('parseAcl: id between first and last colon, warnings for junk', () => {
    expect(parseAcl('digest:alice:abc=:cdrwa')).toEqual({ acl: [{ id: { scheme: 'digest', id: 'alice:abc=' }, perms: 31 }], warnings: [] });
    expect(parseAcl('world:anyone:rx,bogus')).toEqual({
      acl: [{ id: { scheme: 'world', id: 'anyone' }, perms: 1 }],
      warnings: ['Unknown perm type: x', 'bogus does not have the form scheme:id:perm'],
    });
    expect(parseAcl(',').acl).toEqual([]);
  });

  test('javaSplit drops trailing empties like String.split', () => {
    expect(javaSplit('', ',')).toEqual(['']);
    expect(javaSplit(',', ',')).toEqual([]);
    expect(javaSplit('a,,b,,', ',')).toEqual(['a', '', 'b']);
  });

  test('StatsTrack round trip, with 3.8.0 toString quirk', () => {
    const t = parseStatsTrack('count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1');
    expect([...t]).toEqual([['count', 5], ['bytes', -1], ['byteHardLimit', -1], ['countHardLimit', -1]]);
    expect(formatStatsTrack(t)).toBe('count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1');
    expect(formatStatsTrack(new Map([['count', 0], ['bytes', 0]]))).toBe('count=0,bytes=0');
  });

  test('config -c connection string', () => {
    const cfg = 'server.1=a:2888:3888:participant;0.0.0.0:2181\nserver.2=b:2888:3888;2182\nversion=100000000\n';
    expect(clientConfigString(cfg)).toBe('100000000 0.0.0.0:2181,0.0.0.0:2182');
    expect(clientConfigString('')).toBe(' ');
  });
});

describe('numbers zkCli does not catch', () => {
  test('Integer.parseInt / Integer.decode', () => {
    expect(javaParseInt('-5')).toBe(-5);
    expect(() => javaParseInt('abc')).toThrow(JavaCrash);
    expect(() => javaParseInt('2147483648')).toThrow('java.lang.NumberFormatException: For input string: "2147483648"');
    expect(javaDecode('12')).toBe(12);
    expect(javaDecode('0x1f')).toBe(31);
    expect(javaDecode('#10')).toBe(16);
    expect(javaDecode('010')).toBe(8);
    expect(javaDecode('-3')).toBe(-3);
    expect(() => javaDecode('x')).toThrow('java.lang.NumberFormatException: For input string: "x"');
  });
});

describe('launch options (ZooKeeperMain.parseOptions)', () => {
  test('zkCli flags, then the trailing command', () => {
    const o = parseLaunchArgs(['-server', 'h:1/app', '-timeout', '5000', '-r', '-waitforconnection', 'get', '-s', '/a']);
    expect(o).toMatchObject({ server: 'h:1/app', timeoutMs: 5000, readOnly: true, waitForConnection: true, trailing: ['get', '-s', '/a'] });
  });
  test('our flags; unknown dash words ignored like zkCli', () => {
    const o = parseLaunchArgs(['--json', '-c', 'ls /', '--command', 'get /a', '--no-color', '-bogus', '--fail-fast']);
    expect(o).toMatchObject({ json: true, commands: ['ls /', 'get /a'], color: false, failFast: true, trailing: undefined, server: 'localhost:2181' });
    expect(parseLaunchArgs(['--', '-weird']).trailing).toEqual(['-weird']);
    expect(() => parseLaunchArgs(['-server'])).toThrow('Error: no argument found for option -server');
  });
});

describe('usage table', () => {
  test('all zkCli 3.8 commands, sorted as zkCli prints them', () => {
    expect(COMMAND_NAMES).toEqual([
      'addWatch', 'addauth', 'close', 'config', 'connect', 'create', 'delete', 'deleteall', 'delquota', 'get', 'getAcl',
      'getAllChildrenNumber', 'getEphemerals', 'history', 'listquota', 'ls', 'printwatches', 'quit', 'reconfig', 'redo',
      'removewatches', 'set', 'setAcl', 'setquota', 'stat', 'sync', 'version', 'whoami',
    ]);
    expect(COMMAND_USAGE.get('create')).toBe('[-s] [-e] [-c] [-t ttl] path [data] [acl]');
  });
});

describe('completer', () => {
  const tree: Record<string, string[]> = { '/': ['zookeeper', 'app', 'apple'], '/app': ['one', 'two'], '/zookeeper': ['config', 'quota'] };
  const deps = {
    commands: COMMAND_NAMES,
    flags: (c: string) => (SERVER_COMMANDS.find((d) => d.name === c)?.options.opts ?? []).map((o) => `-${o.name}`),
    listChildren: async (p: string) => {
      if (!(p in tree)) throw new Error('NoNode');
      return tree[p]!;
    },
  };

  test('commands, paths, flags', async () => {
    expect(await completeLine('get', deps)).toEqual([['get', 'getAcl', 'getAllChildrenNumber', 'getEphemerals'], 'get']);
    expect(await completeLine('  remo', deps)).toEqual([['removewatches'], 'remo']);
    expect(await completeLine('ls /ap', deps)).toEqual([['/app', '/apple'], '/ap']);
    expect(await completeLine('ls /app/', deps)).toEqual([['/app/one', '/app/two'], '/app/']);
    expect(await completeLine('get -s /zookeeper/q', deps)).toEqual([['/zookeeper/quota'], '/zookeeper/q']);
    expect(await completeLine('ls /missing/x', deps)).toEqual([[], '/missing/x']);
    expect(await completeLine('create -', deps)).toEqual([['-e', '-s', '-c', '-t'], '-']);
    expect(await completeLine('set /a x', deps)).toEqual([[], 'x']);
  });

  test('child lists are cached for a short time', async () => {
    let calls = 0;
    let now = 0;
    const list = cachedLister(async () => {
      calls++;
      return ['a'];
    }, 1000, () => now);
    await list('/');
    await list('/');
    expect(calls).toBe(1);
    now = 1500;
    await list('/');
    expect(calls).toBe(2);
  });
});
