/**
 * Runs Apache's zkCli.sh (one JVM, commands on stdin) and normalizes its transcript so runs against
 * different servers (or different runs) can be compared line for line.
 */
import { execFile } from 'child_process';

export const ZKCLI = '/usr/share/zookeeper/bin/zkCli.sh';

/**
 * Arguments for `bash` running `script` with `args` as $0, $1...: `--norc` because node's child stdin
 * is a socket, and bash started on a socket with SHLVL unset or 0 (as under a CI runner) takes
 * itself for an rshd session and sources ~/.bashrc. On this machine that runs `pyenv rehash`, and
 * concurrent rehashes print "pyenv: cannot rehash" into the very output the tests compare.
 */
export function bashArgs(script: string, ...args: string[]): string[] {
  return ['--norc', '-c', script, ...args];
}

/**
 * Environment for every zkCli.sh run. Debian's zkCli has no SLF4J binding, so SLF4J prints its
 * "Failed to load class" warnings on stderr, the MDC one lazily from the client's I/O thread, where
 * it lands in the middle of the main thread's output (`Exception in thread "main" SLF4J: ...`).
 * With the no-op binding on the classpath SLF4J prints nothing and zkCli logs nothing, as before.
 * zkEnv.sh overwrites CLASSPATH, so the classpath goes in CLIENT_JVMFLAGS, whose -cp comes last
 * on java's command line and wins.
 */
export const ZKCLI_ENV: NodeJS.ProcessEnv = {
  CLIENT_JVMFLAGS: '-cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar',
};

/** Runs the commands through ONE zkCli process; stdout and stderr share one pipe to keep their order. */
export function runZkCli(connectString: string, commands: string[], timeoutMs = 60_000, jvmFlags = '', args: readonly string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'bash',
      // `args` after -server: -client-configuration <file>, say.
      bashArgs(`exec "${ZKCLI}" -server "$1" "\${@:2}" 2>&1`, 'zkcli', connectString, ...args),
      // Extra -D flags (TLS, JAAS) go in CLIENT_JVMFLAGS as users pass them to zkCli.sh.
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...ZKCLI_ENV, CLIENT_JVMFLAGS: `${ZKCLI_ENV.CLIENT_JVMFLAGS} ${jvmFlags}` } },
      (err, stdout) => {
        // zkCli exits non-zero when the last command failed; the transcript is what we check.
        if (err && (err as NodeJS.ErrnoException & { killed?: boolean }).killed) reject(new Error(`zkCli timed out:\n${stdout}`));
        else resolve(stdout);
      },
    );
    child.stdin!.end(commands.join('\n') + '\n');
  });
}

export interface Normalized {
  /** Command output without watcher blocks, blank lines or logging noise, volatile fields replaced. */
  lines: string[];
  /** `WatchedEvent ...` lines in the order the event thread printed them. */
  events: string[];
  /** `config` output: ensemble membership lines (empty for a standalone server). */
  config: string[];
}

const EPOCH = 'Thu Jan 01 00:00:00 UTC 1970';

/**
 * Watcher output comes from zkCli's event thread and interleaves with command output at random, even
 * inside a line, so it is split out (its own order is deterministic). zxids become Z1, Z2... by first appearance (keeps the
 * equalities that matter, e.g. cZxid == mZxid, without tying the test to absolute numbering); times
 * and session ids are masked; lists whose order the server does not define are sorted.
 */
export function normalize(raw: string): Normalized {
  const zxids = new Map<string, string>();
  const zxid = (hex: string) => {
    if (hex === '0x0') return hex;
    if (!zxids.has(hex)) zxids.set(hex, `Z${zxids.size + 1}`);
    return zxids.get(hex)!;
  };
  const lines: string[] = [];
  const events: string[] = [];
  const config: string[] = [];
  // The event thread prints "\nWATCHER::" and "\n" + the event, each with println, and they can
  // land inside a command's line: `ls` appends its list a piece at a time ("[a, ttl" + event +
  // ", zookeeper]"). Cut them out of the raw text, with the newline each print adds in front, before
  // splitting it into lines.
  const text = raw.replace(/\nWATCHER::\n/g, '').replace(/\n(WatchedEvent [^\n]*)\n/g, (_m, ev: string) => (events.push(ev), ''));
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line === 'WATCHER::' || line.startsWith('SLF4J:')) continue;
    if (line.startsWith('WatchedEvent ')) {
      events.push(line);
      continue;
    }
    // `config` prints the ensemble membership (nothing on a standalone server); its ports are
    // random, so it is checked on its own rather than in the transcript.
    if (/^server\.\d+=\S+$/.test(line) || /^version=[0-9a-f]+$/.test(line)) {
      config.push(line);
      continue;
    }
    lines.push(
      line
        .replace(/^Connecting to 127\.0\.0\.1:\d+$/, 'Connecting to 127.0.0.1:<PORT>')
        .replace(/^([cmp]Zxid) = (0x[0-9a-f]+)$/, (_m, k: string, v: string) => `${k} = ${zxid(v)}`)
        .replace(/^([cm]time) = (.+)$/, (m, k: string, v: string) => (v === EPOCH ? m : `${k} = <TIME>`))
        .replace(/^ephemeralOwner = 0x[0-9a-f]*[1-9a-f][0-9a-f]*$/, 'ephemeralOwner = <SESSION>')
        .replace(/^\[(.*)\]$/, (_m, items: string) => `[${items.split(', ').sort().join(', ')}]`),
    );
  }
  // The script ends with `close`, `connect`, `quit`. Each ZooKeeper handle prints its events from
  // its own event thread, so the old handle's Closed and the new one's SyncConnected come out in
  // either order; and `quit` exits the JVM at once, so whether its own Closed is printed at all is
  // a race inside zkCli (seen against both servers). Closed events in that trailing run of
  // connection-state events are therefore not part of the comparison.
  const CLOSED = 'WatchedEvent state:Closed type:None path:null';
  let tail = events.length;
  while (tail > 0 && events[tail - 1].endsWith('type:None path:null')) tail--;
  const trailing = events.splice(tail).filter((e) => e !== CLOSED);
  events.push(...trailing);
  return { lines: sortWhoAmI(sortPathBlocks(lines)), events, config };
}

/** whoami lists the connection's auth ids; Apache keeps them in a hash set, so the order is undefined. */
export function sortWhoAmI(lines: string[]): string[] {
  const out = lines.slice();
  for (let i = 0; i < out.length; i++) {
    if (out[i] !== 'Auth scheme: User') continue;
    let j = i + 1;
    // An id may hold blanks (an x509 subject such as `O=Example\, Inc.`).
    while (j < out.length && /^[a-z0-9]+: \S/.test(out[j]!)) j++;
    out.splice(i + 1, j - i - 1, ...out.slice(i + 1, j).sort());
    i = j - 1;
  }
  return out;
}

/** `ls -R` prints a breadth-first walk in the server's child order; sort each run of path lines. */
function sortPathBlocks(lines: string[]): string[] {
  const out: string[] = [];
  let block: string[] = [];
  const flush = () => {
    out.push(...block.sort());
    block = [];
  };
  for (const l of lines) {
    if (/^\/\S*$/.test(l)) block.push(l);
    else {
      flush();
      out.push(l);
    }
  }
  flush();
  return out;
}

export function render(n: Normalized): string {
  return [...n.lines, '--- watcher events (event thread order) ---', ...n.events].join('\n') + '\n';
}

/** True if `needles` occur in `hay` in this order (not necessarily adjacent). */
export function missingInOrder(hay: string[], needles: string[]): string | undefined {
  let i = 0;
  for (const n of needles) {
    while (i < hay.length && hay[i] !== n) i++;
    if (i === hay.length) return n;
    i++;
  }
  return undefined;
}

export const ALICE_DIGEST = 'aYXlLOpEooaV1cRAvUL1fp9Qt7E=';

/** The main script: the golden transcript (golden/zkcli.txt) is zkCli.sh's output for it against Apache 3.8. */
export const goldenScript = (port: number): string[] => [
  'create /a hello',
  'create /a again',
  'create /x/y z',
  'ls /',
  'stat /a',
  'get -s /a',
  'set /a v2',
  'set -s /a v3',
  'set -v 99 /a v4',
  'set -v 2 /a v4',
  'get /a',
  'get /missing',
  'stat /missing',
  'create -e /eph e',
  'create -s /seq- one',
  'create -s /seq- two',
  'create -s -e /eseq- three',
  'create -c /cont',
  'create /cont/child c',
  'create -t 60000 /ttl t',
  'stat /ttl',
  'create /tree',
  'create /tree/b b',
  'create /tree/b/c c',
  'create /tree/d d',
  'ls -R /tree',
  'ls -s /tree',
  'getAllChildrenNumber /tree',
  'getAllChildrenNumber /',
  'getEphemerals',
  'getEphemerals /e',
  'delete /tree',
  'delete -v 5 /tree/d',
  'delete -v 0 /tree/d',
  'delete /missing',
  'deleteall /tree',
  'ls /tree',
  'get -w /a',
  'set /a w1',
  'ls -w /',
  'create /w1 x',
  'stat -w /a',
  'delete /w1',
  'printwatches',
  'printwatches off',
  'printwatches',
  'printwatches on',
  'addWatch /pw',
  'create /pw p',
  'create /pw/child c',
  'set /pw/child c2',
  'removewatches /pw',
  'addWatch -m PERSISTENT /pw',
  'set /pw p2',
  'create /pw/child2 c',
  'set /pw/child c3',
  'removewatches /pw -a',
  'set /pw p3',
  'get -w /a',
  'removewatches /a -d',
  'set /a afterremove',
  'getAcl /a',
  'getAcl /zookeeper/config',
  'setAcl /a world:anyone:r',
  'getAcl /a',
  'set /a denied',
  'addauth digest alice:secret',
  `create /sec s digest:alice:${ALICE_DIGEST}:cdrwa`,
  'getAcl /sec',
  'get /sec',
  'setAcl /sec auth:alice:secret:crwa',
  'getAcl /sec',
  'whoami',
  'sync /',
  'config',
  'version',
  'create /zookeeper/no x',
  'delete /zookeeper',
  'ls /zookeeper',
  'stat /',
  'create /bad/path/',
  'create nopath',
  'ls',
  'close',
  `connect 127.0.0.1:${port}`,
  'get /sec',
  'whoami',
  // quit exits the JVM at once: events still queued on the event thread (the new session's
  // SyncConnected, under load) would never be printed. sync's callback runs on that thread after
  // them, so once "Sync is OK" is out, every earlier event is too.
  'sync /',
  'quit',
];
