/**
 * Captures golden frames from a real Apache ZooKeeper 3.8 (Debian) through a recording proxy and
 * writes protocol/fixtures/apache/<name>.json = { name, direction, hex, note }.
 *
 * `hex` is the whole frame INCLUDING its 4-byte length prefix. Server frames are Apache's exact bytes;
 * volatile fields inside them (session id, password, zxids, times) are whatever this run produced.
 * Client frames come from zkCli (Java client) for the handshake with readOnly, and from a hand-built
 * raw client for the rest (Apache accepted each of them, which the paired server frame shows).
 *
 * Run: npx tsc -p tsconfig.json && node dist/scripts/capture-fixtures.js [outDir]
 */
import { execFile } from 'child_process';
import { promisify } from 'util';
import * as fs from 'fs';
import * as path from 'path';
import { splitFrames, startProxy, Proxy } from './lib/proxy';
import { connectRequest, ops, RawConn, request } from './lib/rawclient';
import { repoRoot, startServer } from './lib/zk-process';

interface Fixture {
  name: string;
  direction: 'client' | 'server';
  hex: string;
  note: string;
}

const OPEN_ACL = (w: import('./lib/rawclient').Writer) => w.int(1).int(31).ustring('world').ustring('anyone');

/** Frames seen on one proxied connection since the last call, per direction. */
function cursor(proxy: Proxy) {
  let seen = 0;
  return (conn: number): { client: Buffer[]; server: Buffer[] } => {
    const chunks = proxy.frames.slice(seen);
    seen = proxy.frames.length;
    const side = (d: 'client' | 'server') =>
      splitFrames(Buffer.concat(chunks.filter((c) => c.conn === conn && c.direction === d).map((c) => c.data)));
    return { client: side('client'), server: side('server') };
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const outDir = process.argv[2] ?? path.join(repoRoot(), 'protocol', 'fixtures', 'apache');
  fs.mkdirSync(outDir, { recursive: true });
  const server = await startServer('apache');
  const proxy = await startProxy(server.port);
  const fixtures: Fixture[] = [];
  const add = (name: string, direction: 'client' | 'server', frame: Buffer | undefined, note: string) => {
    if (!frame) throw new Error(`fixture ${name}: frame missing`);
    fixtures.push({ name, direction, hex: frame.toString('hex'), note });
  };
  try {
    // 1. Java client (zkCli) handshake: ConnectRequest with the readOnly byte, 37-byte response body.
    // Async on purpose: the proxy lives in this process's event loop.
    await promisify(execFile)('bash', ['--norc', '-c', `/usr/share/zookeeper/bin/zkCli.sh -server 127.0.0.1:${proxy.port} ls / >/dev/null 2>&1`]);
    const javaConn = proxy.frames.find((f) => f.direction === 'client')!.conn;
    const java = cursor(proxy)(javaConn);
    add('connect-request-java', 'client', java.client[0], 'Java client 3.8 ConnectRequest: protocolVersion 0, lastZxidSeen 0, timeout 30000, sessionId 0, 16-byte zero passwd, readOnly false');
    add('connect-response-readonly', 'server', java.server[0], 'ConnectResponse to a client that sent readOnly: 37-byte body ending in the readOnly byte');

    // 2. Raw client, step by step (request → reply), all on one connection.
    const conn = await RawConn.open(proxy.port);
    const rawId = proxy.frames.length === 0 ? 0 : Math.max(...proxy.frames.map((f) => f.conn)) + 1;
    await sleep(50);
    const take = cursor(proxy);
    take(rawId);
    const step = async (name: string, frame: Buffer, replies: number, reqNote: string, repNotes: string[]) => {
      conn.send(frame);
      for (let i = 0; i < replies; i++) if (!(await conn.next())) throw new Error(`${name}: no reply`);
      await sleep(30);
      const got = take(rawId);
      add(`${name}-request`, 'client', got.client[0], reqNote);
      repNotes.forEach((n, i) => add(replies > 1 ? `${name}-reply-${i + 1}` : `${name}-reply`, 'server', got.server[i], n));
    };

    await step('connect-no-readonly', connectRequest({ timeoutMs: 10000 }), 1,
      'ConnectRequest without the trailing readOnly byte (as node-zookeeper-client 1.1.3 sends)',
      ['ConnectResponse without readOnly: 36-byte body (protocolVersion, timeOut 10000, sessionId, 16-byte passwd)']);
    await step('create', ops.create(1, '/fx', Buffer.from('hello')), 1,
      'create (1) /fx data "hello", OPEN_ACL_UNSAFE, flags 0', ['ReplyHeader(xid 1, zxid, err 0) + CreateResponse path "/fx"']);
    await step('create2', request(2, 15, (w) => { w.ustring('/fx2').buffer(Buffer.from('x')); OPEN_ACL(w); w.int(0); }), 1,
      'create2 (15) /fx2', ['Create2Response: path + 68-byte Stat']);
    await step('getData', ops.getData(3, '/fx', false), 1, 'getData (4) /fx, no watch', ['GetDataResponse: buffer "hello" + Stat']);
    await step('exists-missing', ops.exists(4, '/nope', false), 1, 'exists (3) on a missing node', ['ReplyHeader err -101 (NoNode), no body']);
    await step('getChildren2', request(5, 12, (w) => w.ustring('/').bool(false)), 1, 'getChildren2 (12) /',
      ['GetChildren2Response: vector<ustring> children (server order) + Stat']);
    await step('setData-badversion', ops.setData(6, '/fx', Buffer.from('x'), 7), 1, 'setData (5) with a wrong version',
      ['ReplyHeader err -103 (BadVersion); its zxid is a new one (failed writes consume a zxid)']);
    await step('watch-exists', ops.exists(7, '/fxw', true), 1, 'exists (3) /fxw with watch=true (node missing)', ['err -101; the watch is still set']);
    await step('create-fires-watch', ops.create(8, '/fxw', Buffer.alloc(0)), 2, 'create /fxw, which fires the exists watch',
      ['Notification: ReplyHeader(xid -1, zxid -1 in 3.8, err 0) + WatcherEvent(type 1 NodeCreated, state 3, path /fxw); sent BEFORE the reply',
        'create reply after the notification']);
    await step('ping', ops.ping(), 1, 'ping: RequestHeader(xid -2, type 11), no body', ['ping reply: (xid -2, last zxid, err 0), no body']);
    await step('multi-fails', request(9, 14, (w) => {
      w.int(1).bool(false).int(-1); // MultiHeader create
      w.ustring('/fx-multi').buffer(Buffer.from('m'));
      OPEN_ACL(w);
      w.int(0);
      w.int(5).bool(false).int(-1); // MultiHeader setData
      w.ustring('/fx').buffer(Buffer.from('y')).int(42);
      w.int(-1).bool(true).int(-1); // end marker
    }), 1, 'multi (14): create /fx-multi then setData /fx version 42 (fails)',
    ['MultiResponse: ReplyHeader err 0 (3.8 reports the failure only per op), then per op MultiHeader(type -1, done false, err) + ErrorResponse(err): 0, -103; then end marker (-1, true, -1)']);
    await step('multi-ok', request(10, 14, (w) => {
      w.int(1).bool(false).int(-1);
      w.ustring('/fx-multi').buffer(Buffer.from('m'));
      OPEN_ACL(w);
      w.int(0);
      w.int(13).bool(false).int(-1); // check
      w.ustring('/fx').int(0);
      w.int(2).bool(false).int(-1); // delete
      w.ustring('/fx-multi').int(-1);
      w.int(-1).bool(true).int(-1);
    }), 1, 'multi (14): create, check /fx version 0, delete', ['MultiResponse success: create result (type 1, path), check (13, empty), delete (2, empty), end marker']);
    await step('addWatch', request(11, 106, (w) => w.ustring('/fx').int(1)), 1, 'addWatch (106) /fx mode 1 (PERSISTENT_RECURSIVE)',
      ['addWatch reply: header + ErrorResponse body int 0']);
    await step('whoAmI', request(12, 107), 1, 'whoAmI (107), no body', ['WhoAmIResponse: vector<ClientInfo(authScheme, user)>: ip 127.0.0.1']);
    await step('getACL', request(13, 6, (w) => w.ustring('/zookeeper/config')), 1, 'getACL (6) /zookeeper/config',
      ['GetACLResponse: vector<ACL> [world:anyone perms 1 (READ)] + Stat']);
    await step('getAllChildrenNumber', request(14, 104, (w) => w.ustring('/')), 1, 'getAllChildrenNumber (104) /', ['int totalNumber']);
    await step('sync', request(15, 9, (w) => w.ustring('/')), 1, 'sync (9) /', ['SyncResponse: path "/"']);
    await step('auth-digest', request(-4, 100, (w) => w.int(0).ustring('digest').buffer(Buffer.from('alice:secret'))), 1,
      'AuthPacket (xid -4, type 100): type 0, scheme digest, auth "alice:secret"', ['auth reply: (xid -4, zxid 0, err 0), no body']);
    await step('unknown-opcode', request(16, 999), 1, 'an unknown opcode 999 (no body)',
      ['Unimplemented: (xid 16, zxid -1, err -6); then the server closes the connection']);
    conn.destroy();

    // 3. closeSession on a fresh raw session.
    const c2 = await RawConn.open(proxy.port);
    const c2Id = rawId + 1;
    await sleep(30);
    take(c2Id);
    await c2.handshake({ readOnly: false });
    take(c2Id);
    c2.send(ops.closeSession(1));
    await c2.next();
    await c2.waitClosed();
    await sleep(30);
    const closing = take(c2Id);
    add('closeSession-request', 'client', closing.client[0], 'closeSession: RequestHeader(xid 1, type -11), no body');
    add('closeSession-reply', 'server', closing.server[0], 'closeSession reply: (xid 1, zxid, err 0), no body; then the server closes the socket');
  } finally {
    await proxy.close();
    await server.stop();
  }
  for (const f of fixtures) {
    const file = path.join(outDir, `${f.name}.json`);
    // Keep the record annotations (records + decoded, checked by test/protocol/fixtures.test.ts)
    // when the captured bytes did not change; new or changed frames must be annotated again.
    const previous = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { hex?: string; records?: unknown; decoded?: unknown }) : undefined;
    const kept = previous && previous.hex === f.hex ? { records: previous.records, decoded: previous.decoded } : {};
    fs.writeFileSync(file, JSON.stringify({ ...f, ...kept }, null, 2) + '\n');
  }
  process.stdout.write(`wrote ${fixtures.length} fixtures to ${outDir}\n`);
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
