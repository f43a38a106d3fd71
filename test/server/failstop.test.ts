import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ErrorCode } from '../../protocol/jute/constants';
import { requests as rq } from '../../src/client/requests';
import { treeDigest } from '../../src/tree';
import { startInProc } from '../harness/inproc';
import { requireBuiltCli } from '../harness/cli';

describe('fail-stop on storage errors', () => {
  test('a failed fsync is never acknowledged; the server stops; restart has only durable writes', async () => {
    const failpoints = { failFsync: false };
    const srv = await startInProc({ storageFailpoints: failpoints });
    const c = await srv.connect();
    expect((await rq.create(c, '/durable', null)).err).toBe(ErrorCode.ok);
    const digest = treeDigest(srv.server.db);
    const fatal = new Promise<Error>((resolve) => srv.server.once('fatal', resolve));
    failpoints.failFsync = true;
    const outcome = await rq.create(c, '/lost', null).then(
      (r) => `replied ${r.err}`,
      () => 'connection closed',
    );
    expect(outcome).toBe('connection closed');
    expect((await fatal).name).toBe('StorageFatalError');
    failpoints.failFsync = false;
    await srv.restart();
    expect(treeDigest(srv.server.db)).toBe(digest);
    const c2 = await srv.connect();
    expect((await rq.exists(c2, '/lost')).err).toBe(ErrorCode.noNode);
    expect((await rq.exists(c2, '/durable')).err).toBe(ErrorCode.ok);
    c2.close();
    await srv.stop();
  });
});

describe('configuration errors', () => {
  test('a bad zoo.cfg is refused with line numbers and a non-zero exit', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zabkeeper-cfg-'));
    const cfg = path.join(dir, 'zoo.cfg');
    fs.writeFileSync(cfg, ['tickTime=abc', `dataDir=${dir}`, 'clientPort=2181', 'server.1=nohostport', 'maxSessionTimeout=10', 'minSessionTimeout=20', ''].join('\n'));
    const r = spawnSync(process.execPath, [requireBuiltCli(), 'server', '--config', cfg], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/zoo\.cfg:1:.*tickTime/);
    expect(r.stderr).toMatch(/zoo\.cfg:4:/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test.each([
    ['no client port anywhere', ['server.1=127.0.0.1:2888:3888', 'server.2=127.0.0.1:2889:3889'], /no client port/],
    ['clientPort that disagrees with this server line', ['clientPort=2181', 'server.1=127.0.0.1:2888:3888;2182', 'server.2=127.0.0.1:2889:3889;2183'], /zoo\.cfg:\d+: server\.1 gives client address 0\.0\.0\.0:2182 but clientPort/],
  ])('%s: refused before binding anything, exit 3', (_name, lines, message) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zabkeeper-cfg-'));
    const cfg = path.join(dir, 'zoo.cfg');
    fs.writeFileSync(path.join(dir, 'myid'), '1\n');
    fs.writeFileSync(cfg, ['tickTime=2000', 'initLimit=5', 'syncLimit=2', `dataDir=${dir}`, ...lines, ''].join('\n'));
    const r = spawnSync(process.execPath, [requireBuiltCli(), 'server', '--config', cfg], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(message);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
