/**
 * Big things on a 3-member zabkeeper ensemble, each with the event-loop lag of every member
 * (mntr's zk_zabkeeper_event_loop_lag_max_ms since an srst) and the memory it costs:
 *  - 1 MB values (jute.maxbuffer) written by several clients at once;
 *  - 1M one-shot watches on one member, then 100k of them fired by creates;
 *  - 100k sessions opened and left to expire together.
 * Not a test: prints a table.
 *
 *   npm run bench:big -- [--watches 1000000] [--sessions 100000] [--values 40]
 */
import fs from 'node:fs';
import os from 'node:os';
import { Command } from 'commander';
import { OpCode } from '../protocol/jute/constants';
import { writeExistsRequest } from '../protocol/jute/records';
import { WireConnection } from '../src/client/wire';
import { requests as rq } from '../src/client/requests';
import { fourLetter } from './lib/zk-process';
import { startEnsemble, type TestEnsemble } from './lib/ensemble-process';

const HOST = '127.0.0.1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number | undefined): number {
  const m = pid === undefined ? null : /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

async function mntr(port: number, key: string): Promise<number> {
  const text = await fourLetter(port, 'mntr', 30_000).catch(() => '');
  return Number(new RegExp(`^zk_${key}\\t(\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}

async function maxLag(ens: TestEnsemble): Promise<number> {
  return Math.max(...(await Promise.all(ens.members.map((m) => mntr(m.clientPort, 'zabkeeper_event_loop_lag_max_ms')))));
}

async function resetLag(ens: TestEnsemble): Promise<void> {
  await Promise.all(ens.members.map((m) => fourLetter(m.clientPort, 'srst', 10_000)));
}

async function pool<T>(n: number, width: number, fn: (i: number) => Promise<T>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await fn(next++);
  }));
}

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
}

async function bigValues(ens: TestEnsemble, count: number): Promise<string> {
  await resetLag(ens);
  const value = Buffer.alloc(1_000_000, 0x61);
  const ports = ens.members.map((m) => m.clientPort);
  const conns = await Promise.all(ports.map((port) => WireConnection.connect({ host: HOST, port, sessionTimeoutMs: 30_000 })));
  await rq.create(conns[0], '/big', null);
  const t0 = Date.now();
  let writes = 0;
  await pool(count, 6, async (i) => {
    const c = conns[i % conns.length];
    const r = await rq.create(c, `/big/v${i}`, value);
    if (r.err === 0) writes++;
    await rq.setData(c, `/big/v${i}`, value);
    writes++;
  });
  const secs = (Date.now() - t0) / 1000;
  for (const c of conns) c.close();
  const lag = await maxLag(ens);
  return `| ${count} x 1 MB values created and rewritten (6 clients) | ${(writes / secs).toFixed(1)} writes/s, ${(writes / secs).toFixed(1)} MB/s | ${lag} ms | — |`;
}

async function watches(ens: TestEnsemble, total: number): Promise<string[]> {
  await resetLag(ens);
  const m = ens.members[0];
  const before = rssMb(m.pid());
  const conns = await Promise.all(Array.from({ length: 10 }, () => WireConnection.connect({ host: HOST, port: m.clientPort, sessionTimeoutMs: 30_000 })));
  await rq.create(conns[0], '/w', null);
  const t0 = Date.now();
  // exists() on an absent node leaves a data watch; 10 connections x 200 outstanding.
  await pool(total, 2000, async (i) => {
    await conns[i % conns.length].request(OpCode.exists, (w) => writeExistsRequest(w, { path: `/w/n${i}`, watch: true }));
  });
  const regSecs = (Date.now() - t0) / 1000;
  await sleep(2000);
  const after = rssMb(m.pid());
  const lagRegister = await maxLag(ens);
  log(`${total} watches registered in ${regSecs.toFixed(1)} s; RSS ${before.toFixed(0)} -> ${after.toFixed(0)} MB`);
  await resetLag(ens);
  // Fire a tenth of them: each create triggers one watch.
  const fire = Math.min(100_000, total);
  const writer = await WireConnection.connect({ host: HOST, port: ens.members[1].clientPort, sessionTimeoutMs: 30_000 });
  let notified = 0;
  for (const c of conns) c.on('notification', () => notified++);
  await pool(fire, 256, async (i) => {
    await rq.create(writer, `/w/n${i}`, null);
  });
  const deadline = Date.now() + 120_000;
  while (notified < fire && Date.now() < deadline) await sleep(100);
  const lagFire = await maxLag(ens);
  writer.close();
  for (const c of conns) c.close();
  const perWatch = ((after - before) * 1024 * 1024) / total;
  return [
    `| ${total.toLocaleString('en')} one-shot watches on one member (10 connections) | registered in ${regSecs.toFixed(1)} s | ${lagRegister} ms | ${perWatch.toFixed(0)} bytes per watch |`,
    `| ${fire.toLocaleString('en')} of them fired by creates (${notified.toLocaleString('en')} notifications) | — | ${lagFire} ms | — |`,
  ];
}

async function sessions(ens: TestEnsemble, total: number): Promise<string[]> {
  await resetLag(ens);
  const m = ens.members[1];
  const before = rssMb(m.pid());
  const t0 = Date.now();
  // Open and abandon: the session stays until it expires (no closeSession).
  await pool(total, 64, async () => {
    const c = await WireConnection.connect({ host: HOST, port: m.clientPort, sessionTimeoutMs: 8_000 });
    c.close();
  });
  const openSecs = (Date.now() - t0) / 1000;
  const after = rssMb(m.pid());
  const lagOpen = await maxLag(ens);
  await resetLag(ens);
  const deadline = Date.now() + 180_000;
  while ((await mntr(ens.members[0].clientPort, 'global_sessions')) > 10 && Date.now() < deadline) await sleep(500);
  const lagExpire = await maxLag(ens);
  const perSession = ((after - before) * 1024 * 1024) / total;
  return [
    `| ${total.toLocaleString('en')} sessions opened (64 at a time, one member) | ${(total / openSecs).toFixed(0)} sessions/s | ${lagOpen} ms | ${perSession.toFixed(0)} bytes per session (member holding the connections) |`,
    `| the same ${total.toLocaleString('en')} sessions expiring together | — | ${lagExpire} ms | — |`,
  ];
}

async function main(): Promise<void> {
  const o = new Command('bench-big')
    .option('--watches <n>', 'one-shot watches to register', '1000000')
    .option('--sessions <n>', 'sessions to open', '100000')
    .option('--values <n>', '1 MB values to create and rewrite', '40')
    .parse(process.argv)
    .opts();
  log(`load average before: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const ens = await startEnsemble('zabkeeper', 3, { tickTime: 2000, extraCfg: { maxClientCnxns: '0', maxSessionTimeout: '40000' } });
  const rows = ['| 3-member zabkeeper ensemble | rate | longest event-loop stall (any member) | memory |', '|---|---|---|---|'];
  try {
    await ens.waitServing(60_000);
    rows.push(await bigValues(ens, Number(o.values)));
    log(rows.at(-1)!);
    rows.push(...(await watches(ens, Number(o.watches))));
    log(rows.at(-1)!);
    rows.push(...(await sessions(ens, Number(o.sessions))));
    log(rows.at(-1)!);
  } finally {
    await ens.stop();
  }
  log(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  process.stdout.write(rows.join('\n') + '\n');
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
