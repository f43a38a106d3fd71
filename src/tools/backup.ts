import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import pino from 'pino';
import { DATA_DB_FILE, LOG_DB_FILE, openSqliteStore, writeSnapshotBytes } from '../storage';
import { deserializeSnapshot } from '../tree';
import { openExisting, ToolError, type DataDirs } from './datadir';
import { epochOf } from '../util/zxid';

/**
 * `zabkeeper backup`: a consistent snapshot of a running server, taken by the server itself at one
 * zxid (the AdminServer's `snapshot` command, ZooKeeper 3.9's), written next to a manifest with its
 * SHA-256. `zabkeeper restore`: turns such a snapshot into a data dir a server starts from.
 */

export interface BackupManifest {
  format: 'zabkeeper-backup';
  version: 1;
  /** The zxid the snapshot holds (hex). */
  zxid: string;
  file: string;
  bytes: number;
  sha256: string;
  takenAt: string;
  source: string;
  nodeCount: number;
}

export const MANIFEST = 'backup.json';

export interface BackupOptions {
  /** The AdminServer's host:port. */
  server: string;
  /** `Authorization` value: `digest user:password` or `ip` (ZooKeeper 3.9's admin auth). */
  auth: string;
  commandUrl?: string;
  timeoutMs?: number;
}

function get(url: string, headers: Record<string, string>, timeoutMs: number): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** Writes `data` to `file` so that a crash leaves either nothing or the whole file. */
function writeDurably(file: string, data: Buffer | string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const dir = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dir);
  } finally {
    fs.closeSync(dir);
  }
}

export async function backup(dir: string, o: BackupOptions): Promise<BackupManifest> {
  const url = `http://${o.server}${o.commandUrl ?? '/commands'}/snapshot`;
  const res = await get(url, { Authorization: o.auth }, o.timeoutMs ?? 120_000);
  if (res.status !== 200 || res.headers['content-type'] !== 'application/octet-stream') {
    let error = res.body.toString('utf8').slice(0, 500);
    try {
      error = (JSON.parse(error) as { error?: string }).error ?? error;
    } catch {
      // not JSON: show it as it is
    }
    throw new ToolError(`${url} answered ${res.status}: ${error}`);
  }
  const zxidHeader = String(res.headers.last_zxid ?? '');
  // The bytes must be a loadable snapshot at the zxid the server named: checked before anything is kept.
  const db = deserializeSnapshot(res.body);
  if (`0x${db.lastProcessedZxid.toString(16)}` !== zxidHeader) throw new ToolError(`snapshot holds 0x${db.lastProcessedZxid.toString(16)} but the server said ${zxidHeader}`);
  fs.mkdirSync(dir, { recursive: true });
  const file = `snapshot.${db.lastProcessedZxid.toString(16)}`;
  writeDurably(path.join(dir, file), res.body);
  const manifest: BackupManifest = {
    format: 'zabkeeper-backup',
    version: 1,
    zxid: zxidHeader,
    file,
    bytes: res.body.length,
    sha256: createHash('sha256').update(res.body).digest('hex'),
    takenAt: new Date().toISOString(),
    source: o.server,
    nodeCount: db.tree.nodeCount,
  };
  writeDurably(path.join(dir, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

/** A backup directory (its manifest is checked) or a bare snapshot file: the verified bytes. */
export function readBackup(spec: string): { data: Buffer; manifest?: BackupManifest } {
  const st = fs.statSync(spec, { throwIfNoEntry: false });
  if (!st) throw new ToolError(`${spec}: no such file or directory`);
  if (st.isFile()) return { data: fs.readFileSync(spec) };
  const manifestPath = path.join(spec, MANIFEST);
  if (!fs.existsSync(manifestPath)) throw new ToolError(`${spec} has no ${MANIFEST}: not a backup made by \`zabkeeper backup\``);
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as BackupManifest;
  if (manifest.format !== 'zabkeeper-backup' || manifest.version !== 1) throw new ToolError(`${manifestPath}: unknown backup format`);
  const data = fs.readFileSync(path.join(spec, manifest.file));
  const sha = createHash('sha256').update(data).digest('hex');
  if (sha !== manifest.sha256 || data.length !== manifest.bytes) throw new ToolError(`${manifest.file} does not match ${MANIFEST} (sha256 ${sha}, expected ${manifest.sha256}): the backup is damaged`);
  return { data, manifest };
}

const STORE_FILES = [DATA_DB_FILE, LOG_DB_FILE].flatMap((f) => [f, `${f}-wal`, `${f}-shm`]);

/**
 * Creates a data dir holding exactly the backup: one snapshot, no log, epochs set to the snapshot's
 * epoch. An existing store is refused unless `force` (then replaced; a running server's store is
 * refused in any case: its lock is held). myid and other files are left alone.
 */
export function restore(backupSpec: string, dirs: DataDirs, o: { force?: boolean } = {}): { zxid: bigint; nodeCount: number } {
  const { data } = readBackup(backupSpec);
  const db = deserializeSnapshot(data);
  const existing = [dirs.dataDir, dirs.dataLogDir].some((d) => STORE_FILES.some((f) => fs.existsSync(path.join(d, f))));
  if (existing) {
    if (!o.force) throw new ToolError(`${dirs.dataDir} already holds a zabkeeper store; stop its server and pass --force to replace it`);
    openExisting(dirs).close(); // takes (and drops) the lock: refuses a store a server still runs on
    for (const d of new Set([dirs.dataDir, dirs.dataLogDir])) for (const f of STORE_FILES) fs.rmSync(path.join(d, f), { force: true });
  }
  const store = openSqliteStore({ dataDir: dirs.dataDir, dataLogDir: dirs.dataLogDir, logger: pino({ level: 'silent' }) });
  try {
    const info = writeSnapshotBytes(store, db.lastProcessedZxid, data, Date.now());
    const epoch = epochOf(db.lastProcessedZxid);
    // Installed as a SNAP is: the snapshot is the whole history, the epochs are its epoch.
    store.persist({ snapshot: info, hardState: { acceptedEpoch: epoch, currentEpoch: epoch } });
  } finally {
    store.close();
  }
  return { zxid: db.lastProcessedZxid, nodeCount: db.tree.nodeCount };
}
