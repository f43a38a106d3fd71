/**
 * How `zabkeeper shell` runs as a program: trailing command, stdin scripts, -c, exit codes (checked
 * against zkCli.sh on the same server), stdout/stderr split, --json, chroot, a pseudo-terminal
 * session (prompt, tab completion, history file, colours) and NO_COLOR.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { startServer, TestServer, zabkeeperCli } from '../harness/servers';
import { meaningful, runShell, runZkCliArgs, type ProcResult } from './helpers';

let server: TestServer;
let cs: string;

beforeAll(async () => {
  server = await startServer('zabkeeper');
  cs = server.connectString;
  const r = await runShell(['-server', cs, '-c', 'create /base b', '-c', 'create /chroot', '-c', 'create /chroot/inside i']);
  expect(r.code).toBe(0);
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

/** Output lines without the connection banner and watcher blocks (their timing is not defined). */
const commandLines = (r: ProcResult) =>
  meaningful(r.stdout + r.stderr).filter((l) => !/^(Connecting to |WATCHER::|WatchedEvent |\tat )/.test(l));

/** Runs jobs with at most `limit` at a time (each zkCli.sh run is a JVM start; the machine is small). */
async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

describe('exit codes match zkCli.sh', () => {
  // [name, trailing command or stdin script, expected exit code]
  const cases: [string, string[] | string, number][] = [
    ['trailing: success', ['ls', '/base'], 0],
    ['trailing: ZooKeeper error', ['get', '/missing'], 1],
    ['trailing: usage error', ['ls'], 1],
    ['trailing: unknown command', ['bogus'], 127],
    ['trailing: uncaught Java exception (bad -v)', ['set', '-v', 'abc', '/base', 'x'], 1],
    ['trailing: option parse error', ['get', '-x', '/base'], 1],
    ['stdin: last command failed', 'ls /base\nget /missing\n', 1],
    ['stdin: last command succeeded', 'get /missing\nls /base\n', 0],
    ['stdin: quit keeps the previous code', 'get /missing\nquit\nls /\n', 1],
    ['stdin: unknown command last', 'bogus\n', 127],
  ];
  let results: { zk: ProcResult; ours: ProcResult }[];

  beforeAll(async () => {
    results = await pool(
      cases.map(([, c]) => async () => {
        const [zk, ours] = await Promise.all(
          typeof c === 'string'
            ? [runZkCliArgs(['-server', cs], c), runShell(['-server', cs], c)]
            : [runZkCliArgs(['-server', cs, ...c]), runShell(['-server', cs, ...c])],
        );
        return { zk, ours };
      }),
      3,
    );
  }, 60_000);

  test("zkCli.sh prints no SLF4J warnings (printed from zkCli's I/O thread, they split its own lines)", () => {
    for (const { zk } of results) expect(zk.stdout + zk.stderr).not.toContain('SLF4J');
  });

  test.each(cases.map((c, i) => [c[0], i, c[2]] as const))('%s', (_name, i, expected) => {
    const { zk, ours } = results[i]!;
    expect(zk.code).toBe(expected);
    expect(ours.code).toBe(expected);
    // Same lines (the stdout/stderr interleaving is compared in compat.test.ts).
    expect(commandLines(ours).sort()).toEqual(commandLines(zk).sort());
  });
});

describe('non-interactive modes', () => {
  test('trailing command: zkCli streams (Created on stderr, data on stdout), no banner', async () => {
    const r = await runShell(['-server', cs, 'create', '/t1', 'data']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('Created /t1\n');
    expect(r.stdout).toContain(`Connecting to ${cs}\n`);
    expect(r.stdout).not.toContain('Welcome');
    const g = await runShell(['-server', cs, 'get', '/t1']);
    expect(g.stdout.split('\n')).toContain('data');
    expect(g.stderr).toBe('');
  });

  test('uncaught Java exception: zkCli-style message, exit 1, later lines not run', async () => {
    const r = await runShell(['-server', cs], 'set -v abc /base x\ncreate /never\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Exception in thread "main" java.lang.NumberFormatException: For input string: "abc"');
    expect((await runShell(['-server', cs, 'stat', '/never'])).code).toBe(1);
  });

  test('-c runs commands in order and stops at the first failure', async () => {
    const ok = await runShell(['-server', cs, '-c', 'create /c1 x', '-c', 'set /c1 y', '-c', 'get /c1']);
    expect(ok.code).toBe(0);
    expect(ok.stdout.split('\n')).toContain('y');
    const bad = await runShell(['-server', cs, '-c', 'get /missing', '-c', 'create /c2']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Node does not exist: /missing');
    expect(bad.stderr).not.toContain('Created /c2');
  });

  test('--fail-fast stops a stdin script at the first failure', async () => {
    const r = await runShell(['-server', cs, '--fail-fast'], 'get /missing\ncreate /ff\n');
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('Created /ff');
  });

  test('chroot: paths are relative to it, as with zkCli', async () => {
    const r = await runShell(['-server', `${cs}/chroot`], 'ls /\ncreate /made m\nget /inside\nls -R /\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[inside]\n');
    expect(r.stderr).toContain('Created /made\n');
    expect(r.stdout).toContain('\ni\n');
    expect(r.stdout).toContain('/\n/inside\n/made\n');
    const root = await runShell(['-server', cs, 'ls', '/chroot']);
    expect(root.stdout).toContain('[inside, made]');
  });

  test('no colours when stdout is not a terminal', async () => {
    const r = await runShell(['-server', cs], 'get /missing\nget -w /base\nset /base b2\n');
    expect(r.stdout + r.stderr).not.toMatch(/\x1b\[/);
  });

  test('bad launch arguments: exit 2', async () => {
    const r = await runShell(['-server']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no argument found for option -server');
  });
});

describe('--json', () => {
  const lines = (s: string) => s.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, any>);

  test('one JSON object per command; stats with hex zxids; errors on stderr with codes', async () => {
    const r = await runShell(['-server', cs, '--json', '-c', 'create /j hello', '-c', 'get -s /j', '-c', 'ls /j', '-c', 'getAcl /j', '-c', 'get /nope']);
    expect(r.code).toBe(1);
    const out = lines(r.stdout).filter((o) => !o.event);
    expect(out.map((o) => o.command)).toEqual(['create', 'get', 'ls', 'getAcl']);
    expect(out.every((o) => o.ok === true)).toBe(true);
    expect(out[0]!.result.path).toBe('/j');
    expect(out[1]!.result).toMatchObject({ path: '/j', data: 'hello', stat: { version: 0, dataLength: 5 } });
    expect(out[1]!.result.stat.czxid).toMatch(/^0x[0-9a-f]+$/);
    expect(out[2]!.result.children).toEqual([]);
    expect(out[3]!.result.acl).toEqual([{ scheme: 'world', id: 'anyone', perms: 'cdrwa' }]);
    const err = lines(r.stderr);
    expect(err).toEqual([{ command: 'get', ok: false, error: { message: 'Node does not exist: /nope', exitCode: 1, code: -101, path: '/nope' } }]);
  });

  test('watch events are JSON lines too', async () => {
    const r = await runShell(['-server', cs, '--json'], 'create /jw a\nget -w /jw\nset /jw b\nsync /\n');
    const events = lines(r.stdout).filter((o) => o.event).map((o) => o.event);
    expect(events).toContainEqual({ state: 'SyncConnected', type: 'NodeDataChanged', path: '/jw' });
    expect(r.stdout).not.toContain('WATCHER::');
  });
});

/** Drives the shell through a pseudo-terminal (python3's pty module; node has none built in). */
function runInPty(args: string[], steps: { send: string; waitFor: string }[], env: NodeJS.ProcessEnv): Promise<string> {
  const driver = `
import os, pty, sys, time, json, select
steps = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
buf = b''
def wait(text, timeout=10):
    global buf
    end = time.time() + timeout
    while text.encode() not in buf and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                buf += os.read(fd, 4096)
            except OSError:
                return
for s in steps:
    if s['send']:
        os.write(fd, s['send'].encode())
    wait(s['waitFor'])
wait('\\x00', 0.3)
os.kill(pid, 9)
sys.stdout.write(buf.decode('utf8', 'replace'))
`;
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', driver, JSON.stringify(steps), process.execPath, zabkeeperCli(), 'shell', ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout);
    });
  });
}

describe('interactive (pseudo-terminal)', () => {
  let histDir: string;
  beforeAll(() => {
    histDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkshell-hist-'));
  });
  afterAll(() => fs.rmSync(histDir, { recursive: true, force: true }));

  test('prompt, tab completion of commands and znode paths, persistent history', async () => {
    const hist = path.join(histDir, 'h1');
    fs.writeFileSync(hist, 'ls /from-history\n');
    const out = await runInPty(
      ['-server', cs],
      [
        { send: '', waitFor: 'state:SyncConnected' },
        { send: 'getAllCh\t', waitFor: 'getAllChildrenNumber' },
        { send: ' /ba\t', waitFor: '/base' },
        { send: '\r', waitFor: '(CONNECTED) 1]' },
        { send: 'ls /chr\t', waitFor: '/chroot' },
        { send: '/i\t', waitFor: 'inside' },
        { send: '\r', waitFor: '(CONNECTED) 2]' },
        { send: 'quit\r', waitFor: 'state:Closed' },
      ],
      { ZABKEEPER_HISTORY: hist, NO_COLOR: '1' },
    );
    expect(out).toContain('Welcome to ZooKeeper!');
    expect(out).toContain(`[zk: ${cs}(CONNECTING) 0] `);
    expect(out).toContain(`[zk: ${cs}(CONNECTED) 1] `);
    expect(out).toContain('getAllChildrenNumber /base');
    expect(out).not.toMatch(/\x1b\[3\dm/); // NO_COLOR: no colours even on a terminal
    expect(fs.readFileSync(hist, 'utf8').split('\n')).toEqual(['ls /from-history', 'getAllChildrenNumber /base', 'ls /chroot/inside', 'quit', '']);
  }, 30_000);

  test('colours on a terminal without NO_COLOR; history recalled with the up arrow', async () => {
    const hist = path.join(histDir, 'h2');
    fs.writeFileSync(hist, 'get /base\n');
    const out = await runInPty(
      ['-server', cs],
      [
        { send: '', waitFor: 'SyncConnected' },
        { send: '\x1b[A\r', waitFor: '1]' },
        { send: 'get /missing\r', waitFor: 'Node does not exist' },
        { send: 'quit\r', waitFor: 'Closed' },
      ],
      { ZABKEEPER_HISTORY: hist, NO_COLOR: '' },
    );
    expect(out).toContain('get /base');
    expect(out).toMatch(/\x1b\[31mNode does not exist: \/missing\x1b\[0m/);
    expect(out).toMatch(/\x1b\[32mCONNECTED/);
  }, 30_000);
});
