/**
 * The restart path at scale, in one process and without the network: a tree of N 100-byte znodes
 * shaped like bench:scale's (1,000 parents), serialized into snapshot chunks, written to a real
 * SQLite store (one fsync), then loaded back through the same loadSnapshot the server's recovery
 * runs (chunks read, CRCs and whole-body checksum verified while decoding). Prints wall and CPU
 * time for each step plus RSS and heap: on a shared machine the CPU time is the figure that does
 * not depend on what else runs (wall time far above it means we were starved). Not a test.
 *
 *   npm run bench:snapshot -- [--sizes 100000,1000000]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { createDatabase, snapshotChunks, type ZkDatabase } from '../src/tree';
import { openSqliteStore } from '../src/storage/sqlite';
import { loadSnapshot } from '../src/server/snapshots';

const PARENTS = 1000;
const ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

interface Step {
  wallMs: number;
  cpuMs: number;
}

function measure<T>(fn: () => T): [T, Step] {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const out = fn();
  const c = process.cpuUsage(c0);
  return [out, { wallMs: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 }];
}

function buildTree(n: number): ZkDatabase {
  const db = createDatabase();
  const value = Buffer.alloc(100, 0x76);
  let zxid = 1n;
  const node = (data: Buffer | null) => ({ data, acl: ACL, zxid: zxid++, time: 1n, ephemeralOwner: 0n, kind: 'persistent' as const });
  db.tree.create('/scale', node(null));
  for (let p = 0; p < PARENTS; p++) db.tree.create(`/scale/p${p}`, node(null));
  for (let i = 0; i < n; i++) db.tree.create(`/scale/p${i % PARENTS}/n${i}`, node(value));
  db.lastProcessedZxid = zxid - 1n;
  return db;
}

const mb = (bytes: number) => Math.round(bytes / 1048576);

function benchSize(n: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-bench-snapshot-'));
  try {
    const db = buildTree(n);
    const built = process.memoryUsage();
    const [chunks, serialize] = measure(() => snapshotChunks(db));
    const store = openSqliteStore({ dataDir: dir });
    const [info, write] = measure(() => {
      const w = store.beginSnapshot();
      for (const c of chunks) w.append(c);
      // finish() fsyncs the body; naming it in the catalog needs a log that reaches its zxid.
      return w.finish(db.lastProcessedZxid, Date.now());
    });
    chunks.length = 0;
    const [loaded, load] = measure(() => loadSnapshot(store, info));
    if (loaded.lastProcessedZxid !== db.lastProcessedZxid) throw new Error('loaded snapshot is at the wrong zxid');
    store.close();
    const disk = fs.readdirSync(dir).reduce((a, f) => a + fs.statSync(path.join(dir, f)).size, 0);
    const step = (s: Step) => `${s.wallMs.toFixed(0)} / ${s.cpuMs.toFixed(0)} ms`;
    return `| ${n.toLocaleString('en')} | ${mb(built.rss)} MB / ${mb(built.heapUsed)} MB | ${mb(info.bytes)} MB, ${info.chunks} chunks | ${step(serialize)} | ${step(write)} | ${step(load)} | ${mb(disk)} MB |`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const o = new Command('bench-snapshot').option('--sizes <list>', 'znode counts', '100000,1000000').parse(process.argv).opts();
  const rows = ['| znodes | RSS / JS heap with the tree | snapshot | serialize wall / cpu | write + fsync wall / cpu | load (recovery path) wall / cpu | files on disk |', '|---|---|---|---|---|---|---|'];
  process.stderr.write(`load average before: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  for (const n of String(o.sizes).split(',').map(Number)) rows.push(benchSize(n));
  process.stderr.write(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  process.stdout.write(rows.join('\n') + '\n');
}

main();
