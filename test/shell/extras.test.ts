/**
 * Proves the shell's commands beyond zkCli, run through the built CLI as users run it: tree, find,
 * grep, du, cp (znode to znode, to and from JSON files, binary data kept), diff, edit in $EDITOR
 * with a version check (a concurrent change is refused, nothing is overwritten), watch -n, and the
 * mntr/srvr shortcuts; each also as one --json object.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient, type ZkClient } from '../../src/client';
import { startTestServer, type TestServer } from '../../src/testing/server';
import { runShell } from './helpers';

let server: TestServer;
let zk: ZkClient;
let tmp: string;
const sh = (...cmd: string[]) => runShell(['-server', server.connectString, ...cmd]);
const json = async (...cmd: string[]) => {
  const r = await runShell(['--json', '-server', server.connectString, ...cmd]);
  const line = r.stdout.split('\n').find((l) => l.startsWith('{"command"'));
  if (!line) throw new Error(`no JSON result: ${r.stdout} ${r.stderr}`);
  return JSON.parse(line) as { ok: boolean; result: Record<string, unknown> };
};
const out = (r: { stdout: string }) => r.stdout.split('\n').filter((l) => l !== '' && !/^(Connecting|WATCHER|WatchedEvent|Welcome|JLine)/.test(l));

beforeAll(async () => {
  server = await startTestServer({ storage: 'memory' });
  zk = await createClient(server.connectString);
  await zk.create('/app/cfg/db', 'url=pg://a\npool=4', { createParents: true });
  await zk.create('/app/cfg/cache', 'size=10');
  await zk.create('/app/bin', Buffer.from([0, 255, 1]));
  await zk.create('/app/lock', 'me', { mode: 'ephemeral' });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zabkeeper-shell-extras-'));
});
afterAll(async () => {
  await zk?.close();
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('tree, find, grep, du', async () => {
  expect(out(await sh('tree', '/app'))).toEqual(['/app', '├─ bin', '├─ cfg', '│  ├─ cache', '│  ├─ db', '├─ lock']);
  expect((await json('tree', '-d', '1', '/app')).result.paths).toEqual(['/app', '/app/bin', '/app/cfg', '/app/lock']);
  expect(out(await sh('find', '-n', 'c*', '/app'))).toEqual(['/app/cfg', '/app/cfg/cache']);
  expect(out(await sh('find', '-e', '/app'))).toEqual(['/app/lock']);
  expect(out(await sh('grep', 'pool', '/app'))).toEqual(['/app/cfg/db: pool=4']);
  expect(out(await sh('du', '/app'))).toEqual(['3\t1\t/app/bin', '24\t3\t/app/cfg', '2\t1\t/app/lock', '29\t6\t/app']);
  expect((await json('du', '/app')).result).toMatchObject({ bytes: 29, nodes: 6 });
});

test('cp to a node, to and from JSON; diff sees the copies and a change', async () => {
  expect(out(await sh('cp', '/app/cfg', '/copy'))).toEqual(['/app/cfg -> /copy (3 nodes)']);
  expect(out(await sh('diff', '/app/cfg', '/copy'))).toEqual(['no differences']);
  await zk.setData('/copy/db', 'url=pg://b');
  await zk.create('/copy/extra');
  expect((await json('diff', '/app/cfg', '/copy')).result).toMatchObject({ onlyInA: [], onlyInB: ['extra'], changed: ['db'] });
  const file = path.join(tmp, 'app.json');
  await sh('cp', '/app', `json:${file}`);
  const tree = JSON.parse(fs.readFileSync(file, 'utf8'));
  expect(tree.children.cfg.children.db.data).toBe('url=pg://a\npool=4');
  expect(tree.children.bin.base64).toBe(Buffer.from([0, 255, 1]).toString('base64'));
  expect((await json('cp', `json:${file}`, '/restored')).result.nodes).toBe(6);
  expect((await zk.getData('/restored/bin')).data).toEqual(Buffer.from([0, 255, 1]));
  expect(out(await sh('diff', '/app', '/restored'))).toEqual(['no differences']);
});

test('edit: $EDITOR changes the data, written with the version it read; a stale version is refused', async () => {
  await zk.create('/doc', 'hello');
  const r = await runShell(['-server', server.connectString, 'edit', '/doc'], undefined, { EDITOR: 'sed -i s/hello/edited/' });
  expect(r.code).toBe(0);
  expect((await zk.getData('/doc')).data?.toString()).toBe('edited');
  // An "editor" that changes the node behind the shell's back, then saves: the save is refused.
  const sneaky = path.join(tmp, 'sneaky.sh');
  fs.writeFileSync(sneaky, `#!/bin/sh\n"${process.execPath}" "${path.resolve(__dirname, '../../dist/src/cli/index.js')}" shell -server ${server.connectString} set /doc other >/dev/null 2>&1\necho mine > "$1"\n`, { mode: 0o755 });
  const stale = await runShell(['-server', server.connectString, 'edit', '/doc'], undefined, { EDITOR: sneaky });
  expect(stale.code).toBe(1);
  expect(stale.stderr).toContain('changed while you were editing');
  expect((await zk.getData('/doc')).data?.toString()).toBe('other');
});

test('watch -n prints live events; mntr and srvr', async () => {
  const watching = json('watch', '-n', '2', '/app');
  // Writes until the watch (in another process) has seen them: a write before it is armed is not an event.
  let i = 0;
  const writer = setInterval(() => void zk.setData('/app/cfg/cache', `size=${i++}`).catch(() => undefined), 100);
  try {
    const r = await watching;
    expect((r.result.events as { type: string; path: string }[]).map((e) => `${e.type} ${e.path}`)).toEqual(['nodeDataChanged /app/cfg/cache', 'nodeDataChanged /app/cfg/cache']);
  } finally {
    clearInterval(writer);
  }
  expect(out(await sh('srvr')).join('\n')).toMatch(/Mode: standalone/);
  expect((await json('srvr')).result.mode).toBe('standalone');
  expect(((await json('mntr')).result.metrics as Record<string, number>).znode_count).toBeGreaterThan(5);
});
