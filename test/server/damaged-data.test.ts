import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { ErrorCode, OpCode } from '../../protocol/jute/constants';
import { writeSyncRequest } from '../../protocol/jute/records';
import { WireConnection } from '../../src/client/wire';
import { requests as rq } from '../../src/client/requests';
import { DATA_DB_FILE, LOG_DB_FILE, StoreCorruptError } from '../../src/storage';
import { requireBuiltCli, startCliServer } from '../harness/cli';
import { createSurely, startInProcEnsemble } from '../harness/ensemble';
import { until } from '../harness/wait';
import { freePort } from '../harness/ports';

/**
 * A member whose txn log or snapshot was damaged on disk refuses to start and says how to re-sync
 * it (issue 9 item 6) — for a real server process — and following that advice in an ensemble
 * brings the member back with every committed txn, fetched from the leader.
 */
function flipByte(file: string, sql: string, column: string, key: (db: Database.Database) => unknown): void {
  const db = new Database(file);
  try {
    const k = key(db);
    const row = db.prepare(sql).get(k) as Record<string, Buffer>;
    const data = Buffer.from(row[column]);
    data[Math.floor(data.length / 2)] ^= 0x20;
    db.prepare(`UPDATE ${sql.match(/FROM (\w+)/)![1]} SET ${column} = ? WHERE ${sql.match(/WHERE (\w+)/)![1]} = ?`).run(data, k);
  } finally {
    db.close();
  }
}

/** The key of chunk 0 of the newest named snapshot (chunk keys are body id * 2^20 + sequence). */
function newestSnapshotKey(dir: string): number {
  const log = new Database(path.join(dir, LOG_DB_FILE), { readonly: true });
  try {
    const body = log.prepare('SELECT body_id FROM snapshots ORDER BY zxid DESC LIMIT 1').pluck().get() as number;
    return body * 2 ** 20;
  } finally {
    log.close();
  }
}

/** Runs `zabkeeper server` on a data dir it must refuse; resolves with its exit code and output. */
function runRefused(cfg: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [requireBuiltCli(), 'server', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout!.on('data', (d) => (output += String(d)));
    proc.stderr!.on('data', (d) => (output += String(d)));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`server did not refuse within 20 s: ${output}`));
    }, 20_000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('damaged data on disk (real server process)', () => {
  test('a flipped byte in a log row or in a snapshot: the server refuses to start and says how to re-sync', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'zabkeeper-damaged-'));
    try {
      const port = await freePort();
      const dataDir = path.join(root, 'data');
      const cfg = path.join(root, 'zoo.cfg');
      const writeCfg = (dir: string, snapCount = 20) => fs.writeFileSync(cfg, `tickTime=500\ndataDir=${dir}\nclientPort=${port}\nclientPortAddress=127.0.0.1\nsnapCount=${snapCount}\n`);
      // Snapshots every ~20 txns, then a run that takes none, so the newest log rows are surely
      // past the newest snapshot and recovery must read (and check) them.
      for (const [snapCount, from, to] of [[20, 0, 50], [1_000_000, 50, 55]] as const) {
        writeCfg(dataDir, snapCount);
        const server = await startCliServer(['--config', cfg], port);
        const c = await WireConnection.connect({ host: '127.0.0.1', port });
        for (let i = from; i < to; i++) expect((await rq.create(c, `/n${i}`, Buffer.from(`v${i}`))).err).toBe(ErrorCode.ok);
        c.close();
        await server.stop();
      }

      const cases = [
        {
          name: 'log row',
          damage: (dir: string) => flipByte(path.join(dir, LOG_DB_FILE), 'SELECT data FROM log WHERE zxid = ?', 'data', (db) => db.prepare('SELECT MAX(zxid) FROM log').pluck().get()),
          message: /txn 0x[0-9a-f]+ in .*zabkeeper-log\.db is damaged \(checksum mismatch\)/,
        },
        {
          name: 'snapshot',
          // Chunk 0 of the newest snapshot the catalog names (a body being written at the stop is not one).
          damage: (dir: string) => flipByte(path.join(dir, DATA_DB_FILE), 'SELECT data FROM snapshot_chunks WHERE key = ?', 'data', () => newestSnapshotKey(dir)),
          message: /snapshot 0x[0-9a-f]+ in .*zabkeeper\.db: chunk 0 fails its checksum/,
        },
      ];
      for (const k of cases) {
        const dir = path.join(root, k.name.replace(' ', '-'));
        fs.cpSync(dataDir, dir, { recursive: true });
        k.damage(dir);
        writeCfg(dir);
        const { code, output } = await runRefused(cfg);
        expect({ damaged: k.name, code }).toEqual({ damaged: k.name, code: 1 });
        expect(output).toMatch(k.message);
        expect(output).toMatch(/To re-sync it from the other members: stop it, move zabkeeper\.db\* and zabkeeper-log\.db\* out of .*keep the myid file/);
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('re-syncing a damaged ensemble member', () => {
  test('it refuses to start; with its database files moved aside it rejoins and holds every committed txn', async () => {
    const ens = await startInProcEnsemble(3);
    try {
      const leader = await ens.waitServing();
      const victim = (leader + 1) % 3;
      for (let i = 0; i < 20; i++) await createSurely(ens, `/k${i}`, Buffer.from('v'));
      await ens.stop(victim);
      const dir = ens.options[victim].dataDir;
      flipByte(path.join(dir, LOG_DB_FILE), 'SELECT data FROM log WHERE zxid = ?', 'data', (db) => db.prepare('SELECT MAX(zxid) FROM log').pluck().get());
      await expect(ens.start(victim)).rejects.toThrow(StoreCorruptError);
      await expect(ens.start(victim)).rejects.toThrow(/damaged.*move zabkeeper\.db\* and zabkeeper-log\.db\*/s);
      // While it is down, the others keep committing.
      for (let i = 20; i < 30; i++) await createSurely(ens, `/k${i}`, Buffer.from('v'));
      // The advice: move the database files aside, keep myid, start again.
      const aside = path.join(path.dirname(dir), `aside-${victim}`);
      fs.mkdirSync(aside);
      for (const f of fs.readdirSync(dir)) if (f.startsWith('zabkeeper')) fs.renameSync(path.join(dir, f), path.join(aside, f));
      await ens.start(victim);
      const missing = await until(async () => {
        await ens.waitServing();
        const v = await WireConnection.connect({ host: '127.0.0.1', port: ens.clientPorts[victim], sessionTimeoutMs: 6000 });
        try {
          if ((await v.request(OpCode.sync, (w) => writeSyncRequest(w, { path: '/' }))).err !== 0) return undefined;
          const absent: string[] = [];
          for (let i = 0; i < 30; i++) if ((await rq.exists(v, `/k${i}`)).err !== ErrorCode.ok) absent.push(`/k${i}`);
          return { absent };
        } finally {
          v.close();
        }
      }, 'the re-synced member to answer a sync and reads');
      expect(missing.absent).toEqual([]);
    } finally {
      await ens.close();
    }
  });
});
