/**
 * Proves the web console in a real headless browser (Debian's chromium through playwright-core):
 * on a 3-member ensemble, every view works at 1280×800 and at phone width — tree browsing with
 * text/JSON/hex data, Stat and ACL; conditional edit, create and delete (a stale version is
 * refused); sessions with their ephemerals and watches; the ensemble's roles, zxids and lag;
 * live metrics; a live event stream — with a screenshot of each view in test-output/console
 * (and copies in $ZK_SCREENSHOT_DIR). Also proves the console's guards: loopback Host names only
 * without users, the write header, refusing to start exposed without users, Basic auth against
 * digests with ACLs applied per user.
 */
import fs from 'node:fs';
import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, zooCfgText } from '../../src/testing/ports';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createClient, type ZkClient } from '../../src/client';
import { startTestCluster, type TestCluster } from '../../src/testing/cluster';
import { ConsoleConfigError, ConsoleServer } from '../../src/console/server';
import { ZkServer } from '../../src/server/zkserver';
import { defaultServerOptions } from '../../src/server/options';
import { createMemoryStore } from '../../src/storage/memory';
import { generateDigest } from '../../src/acl/digest';
import { until } from '../harness/wait';

const CHROMIUM = '/usr/bin/chromium';
const OUT = path.resolve(__dirname, '../../test-output/console');
const COPY = process.env.ZK_SCREENSHOT_DIR;
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium) console.warn(`console tests skipped: ${CHROMIUM} is not installed (apt-get install chromium; .ci/run does)`);
const maybe = haveChromium ? describe : describe.skip;

maybe('web console in headless chromium', () => {
  let cluster: TestCluster;
  let zk: ZkClient;
  let owner: ZkClient;
  let context: BrowserContext;
  let profile: string;
  let base: string;

  beforeAll(async () => {
    fs.mkdirSync(OUT, { recursive: true });
    if (COPY) fs.mkdirSync(COPY, { recursive: true });
    cluster = await startTestCluster({ servers: 3, console: { edits: true } });
    base = cluster.members[0]!.consoleUrl!;
    zk = await createClient(cluster.members[0]!.connectString);
    owner = await createClient(cluster.members[0]!.connectString);
    await zk.create('/app/config.json', JSON.stringify({ pool: 4, hosts: ['a', 'b'] }), { createParents: true });
    await zk.create('/app/blob', Buffer.from([0, 1, 2, 0xfe, 0xff, 0x41]));
    await zk.create('/app/readme', 'plain text');
    await owner.create('/services/api/i-1', '10.0.0.5:8080', { mode: 'ephemeral', createParents: true });
    await owner.exists('/app/config.json', { watch: true });
    profile = fs.mkdtempSync(path.join(os.tmpdir(), `zabkeeper-chromium-${process.pid}-`));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await Promise.all([zk?.close(), owner?.close()]);
    await cluster?.stop();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  });

  async function shot(page: Page, name: string): Promise<void> {
    const file = path.join(OUT, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    if (COPY) fs.copyFileSync(file, path.join(COPY, `${name}.png`));
  }

  async function open(view: string, vp: { width: number; height: number }): Promise<Page> {
    const page = await context.newPage();
    await page.setViewportSize({ width: vp.width, height: vp.height });
    await page.goto(`${base}#${view}`);
    await page.waitForSelector(`body[data-ready="${view}"]`, { timeout: 30_000 });
    return page;
  }

  test.each(VIEWPORTS)('tree, data views, Stat, ACL and conditional edits ($name)', async (vp) => {
    const page = await open('tree', vp);
    await page.click('[data-path="/app"]');
    await page.click('[data-path="/app/config.json"]');
    await page.waitForSelector('#node h2:text("/app/config.json")');
    await page.click('.tabs button:text("JSON")');
    expect(await page.textContent('#data')).toContain('"hosts": [');
    expect(await page.textContent('#stat')).toContain('dataLength');
    expect(await page.textContent('#acl')).toContain('anyone');
    await shot(page, `tree-${vp.name}`);
    await page.click('[data-path="/app/blob"]');
    await page.waitForSelector('#node h2:text("/app/blob")');
    await page.click('.tabs button:text("Hex")');
    expect(await page.textContent('#data')).toContain('00 01 02 fe ff 41');
    await shot(page, `tree-hex-${vp.name}`);

    // Edit with the version shown; then a stale version is refused.
    const v = (await zk.exists('/app/readme')).stat!.version;
    await page.click('[data-path="/app/readme"]');
    await page.waitForSelector(`#save:text("(version ${v})")`);
    await page.fill('#edit-data', `edited on ${vp.name}`);
    await page.click('#save');
    // An error the console shows instead (it would otherwise surface only as this wait's timeout).
    const shownError = async () => ((await page.isVisible('#toast.error')) ? await page.textContent('#toast.error') : null);
    await until(async () => {
      const err = await shownError();
      if (err) throw new Error(`the console showed an error for the edit: ${err}`);
      return (await zk.getData('/app/readme')).data?.toString() === `edited on ${vp.name}`;
    }, 'the console edit to land');
    await page.waitForSelector(`#save:text("(version ${v + 1})")`);
    await zk.setData('/app/readme', 'changed behind the console');
    await page.fill('#edit-data', 'stale');
    await page.click('#save');
    await page.waitForSelector('#toast.error:has-text("badVersion")');
    expect((await zk.getData('/app/readme')).data?.toString()).toBe('changed behind the console');

    // Create a child, then delete it with its version.
    await page.click('[data-path="/app"]');
    await page.waitForSelector('#node h2:text-is("/app")'); // the pane is re-rendered: fill the new one
    await page.fill('#new-name', `made-${vp.name}`);
    await page.click('#create');
    await until(async () => (await zk.exists(`/app/made-${vp.name}`)).stat !== null, 'the console create to land');
    await page.waitForSelector(`#node h2:text("/app/made-${vp.name}")`);
    page.once('dialog', (d) => void d.accept());
    await page.click('#delete');
    await until(async () => (await zk.exists(`/app/made-${vp.name}`)).stat === null, 'the console delete to land');
    await zk.setData('/app/readme', 'plain text');
    await page.close();
  }, 120_000);

  test.each(VIEWPORTS)('sessions with ephemerals and watches ($name)', async (vp) => {
    const page = await open('sessions', vp);
    const table = await page.textContent('#sessions');
    expect(table).toContain(`0x${owner.sessionId.toString(16)}`);
    expect(table).toContain('/services/api/i-1');
    expect(table).toContain('/app/config.json'); // the owner's exists watch, on this member
    await shot(page, `sessions-${vp.name}`);
    await page.close();
  }, 60_000);

  test.each(VIEWPORTS)('ensemble: members, roles, zxid, lag, leader history ($name)', async (vp) => {
    const page = await open('ensemble', vp);
    const members = await page.textContent('#members');
    expect((members!.match(/leader/g) ?? []).length).toBe(1);
    expect((members!.match(/follower/g) ?? []).length).toBe(2);
    expect(members).toMatch(/0x[0-9a-f]+/);
    expect(await page.textContent('#leaders')).toMatch(/server \d+\s*epoch \d+/);
    await shot(page, `ensemble-${vp.name}`);
    await page.close();
  }, 60_000);

  test.each(VIEWPORTS)('live metrics charts ($name)', async (vp) => {
    const page = await open('metrics', vp);
    // A few samples arrive (one per second) and the charts draw them.
    await page.waitForFunction(() => ((globalThis as unknown as { document: { querySelector(s: string): { getAttribute(a: string): string | null } | null } }).document.querySelector('[data-metric="znode_count"] polyline')?.getAttribute('points') ?? '').split(' ').length >= 3, undefined, { timeout: 30_000 });
    expect(Number(await page.textContent('[data-metric="znode_count"] .value'))).toBeGreaterThan(5);
    await shot(page, `metrics-${vp.name}`);
    await page.close();
  }, 60_000);

  test.each(VIEWPORTS)('live event stream for a subtree ($name)', async (vp) => {
    const page = await open('events', vp);
    await page.fill('#events-path', '/app');
    await page.click('#events-start');
    await page.waitForSelector('#toast:has-text("watching /app")');
    await zk.setData('/app/config.json', JSON.stringify({ pool: 8 }));
    await zk.create(`/app/new-${vp.name}`, 'x');
    await page.waitForSelector(`#events td:text("/app/new-${vp.name}")`);
    expect(await page.textContent('#events')).toContain('nodeDataChanged');
    await shot(page, `events-${vp.name}`);
    await zk.delete(`/app/new-${vp.name}`);
    await page.close();
  }, 60_000);

  test('API guards: loopback Host only, the write header, edits toggle', async () => {
    const api = `${base}api/`;
    expect((await fetch(`${api}overview`)).status).toBe(200);
    // fetch() will not send a Host of our choosing; a raw request will (DNS rebinding sends the attacker's name).
    const foreign = await new Promise<number>((resolve, reject) => {
      const u = new URL(`${api}overview`);
      http.get({ host: u.hostname, port: u.port, path: u.pathname, headers: { Host: 'evil.example' } }, (res) => (res.resume(), resolve(res.statusCode!))).on('error', reject);
    });
    expect(foreign).toBe(403);
    const noHeader = await fetch(`${api}node`, { method: 'PUT', body: JSON.stringify({ path: '/app/readme', data: 'x', version: 0 }) });
    expect(noHeader.status).toBe(403);
    const noVersion = await fetch(`${api}node`, { method: 'PUT', headers: { 'X-Zabkeeper-Console': '1' }, body: JSON.stringify({ path: '/app/readme', data: 'x' }) });
    expect(noVersion.status).toBe(400);
  });
});

describe('console access control (no browser needed)', () => {
  const logger = pino({ level: 'silent' });
  let server: ZkServer;
  beforeAll(async () => {
    server = await ZkServer.start(defaultServerOptions({ port: 0, dataDir: '', tickTimeMs: 200 }), logger, { store: createMemoryStore() });
  });
  afterAll(async () => {
    await server?.close();
  });

  test('exposed without users: refuses to start', () => {
    expect(() => ConsoleServer.create(server, { port: 0, address: '0.0.0.0' }, logger)).toThrow(ConsoleConfigError);
  });

  test('with users: Basic auth against digests, and each user sees what the ACLs let them', async () => {
    const users = new Map([
      ['alice', generateDigest('alice:wonder').split(':')[1]!],
      ['bob', generateDigest('bob:builder').split(':')[1]!],
    ]);
    const c = await ConsoleServer.start(server, { port: 0, users }, logger);
    const zk = await createClient(`127.0.0.1:${server.port}`);
    try {
      await zk.addAuth('digest', 'alice:wonder');
      await zk.create('/alice-only', 'secret', { acl: [{ perms: 31, id: { scheme: 'digest', id: generateDigest('alice:wonder') } }] });
      const url = `http://127.0.0.1:${c.port}/console/api/node?path=/alice-only`;
      const as = (u: string, p: string) => ({ headers: { Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` } });
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, as('alice', 'wrong'))).status).toBe(401);
      const alice = await fetch(url, as('alice', 'wonder'));
      expect(alice.status).toBe(200);
      expect(Buffer.from(((await alice.json()) as { data: string }).data, 'base64').toString()).toBe('secret');
      const bob = await fetch(url, as('bob', 'builder'));
      expect(bob.status).toBe(409);
      expect(((await bob.json()) as { code: string }).code).toBe('noAuth');
    } finally {
      await zk.close();
      await c.close();
    }
  });
});

describe('console on the AdminServer port', () => {
  const cli = path.resolve(__dirname, '../../dist/src/cli/index.js');

  async function serve(adminAddress: string): Promise<{ child: ChildProcess; adminPort: number; dir: string; exit: Promise<number | null> }> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zabkeeper-console-admin-'));
    const [clientPort, adminPort] = [await freePort(), await freePort()];
    fs.writeFileSync(path.join(dir, 'zoo.cfg'), zooCfgText({ tickTime: '200', dataDir: path.join(dir, 'data'), clientPort: String(clientPort), clientPortAddress: '127.0.0.1', 'admin.serverAddress': adminAddress, 'admin.serverPort': String(adminPort) }));
    const child = spawn(process.execPath, [cli, 'server', '--config', path.join(dir, 'zoo.cfg'), '--console'], { stdio: 'ignore' });
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    return { child, adminPort, dir, exit };
  }

  test('mounted under /console beside the AdminServer commands', async () => {
    const s = await serve('127.0.0.1');
    try {
      const overview = (await until(async () => (await fetch(`http://127.0.0.1:${s.adminPort}/console/api/overview`).catch(() => undefined))?.json(), 'the console on the AdminServer port')) as { mode: string };
      expect(overview.mode).toBe('standalone');
      expect(await (await fetch(`http://127.0.0.1:${s.adminPort}/commands/ruok`)).json()).toMatchObject({ command: 'ruok', error: null });
    } finally {
      s.child.kill('SIGTERM');
      await s.exit;
      fs.rmSync(s.dir, { recursive: true, force: true });
    }
  });

  test('an AdminServer exposed beyond loopback without console users: the server refuses to start', async () => {
    const s = await serve('0.0.0.0');
    try {
      expect(await s.exit).toBe(1);
    } finally {
      s.child.kill('SIGKILL');
      fs.rmSync(s.dir, { recursive: true, force: true });
    }
  });
});
