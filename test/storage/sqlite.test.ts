import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  DATA_DB_FILE,
  LOCK_FILE,
  LOG_DB_FILE,
  openSqliteStore,
  readSnapshotBytes,
  StoreCorruptError,
  StoreLockedError,
  type Store,
} from '../../src/storage';
import { lockHolder } from '../../src/storage/lock';
import { save, storeContract, run, z } from './contract';
import { tempDir } from './helpers';

storeContract('sqlite (one dir)', () => {
  const t = tempDir();
  return { open: (failpoints) => openSqliteStore({ dataDir: t.dir, failpoints }), dispose: t.cleanup };
});

storeContract('sqlite (separate dataLogDir)', () => {
  const t = tempDir();
  const dataDir = path.join(t.dir, 'data');
  const dataLogDir = path.join(t.dir, 'log');
  return { open: (failpoints) => openSqliteStore({ dataDir, dataLogDir, failpoints }), dispose: t.cleanup };
});

const HS1 = { acceptedEpoch: 1, currentEpoch: 1 };

describe('sqlite store on disk', () => {
  let t: ReturnType<typeof tempDir>;
  let open: Store[];
  beforeEach(() => {
    t = tempDir();
    open = [];
  });
  afterEach(() => {
    for (const s of open) s.close();
    t.cleanup();
  });
  const openStore = (opts: { dataDir?: string; dataLogDir?: string } = {}): Store => {
    const s = openSqliteStore({ dataDir: opts.dataDir ?? t.dir, dataLogDir: opts.dataLogDir });
    open.push(s);
    return s;
  };
  const closeAll = (): void => {
    for (const s of open) s.close();
    open = [];
  };
  /** Writes a small history and closes the store. */
  const seed = (): void => {
    const s = openStore();
    s.persist({ hardState: HS1, entries: run(1, 1, 10) });
    save(s, z(1, 5), 'snapshot-five');
    closeAll();
  };
  const raw = (file: string, fn: (db: Database.Database) => void): void => {
    const db = new Database(path.join(t.dir, file));
    try {
      fn(db);
    } finally {
      db.close();
    }
  };
  const expectCorrupt = (message: RegExp): void => {
    expect(() => openStore()).toThrow(StoreCorruptError);
    expect(() => openStore()).toThrow(message);
    // A refused open must not keep its lock: nobody holds it now.
    expect(lockHolder(path.join(t.dir, LOCK_FILE))).toBeUndefined();
  };

  test('creates the data dir, the two db files and a lock, with WAL + synchronous=FULL', () => {
    const dataDir = path.join(t.dir, 'a', 'b');
    const s = openStore({ dataDir });
    const d = s.describe();
    expect(d.dataDir).toBe(dataDir);
    expect(d.dataLogDir).toBe(dataDir);
    expect(d.files).toEqual([path.join(dataDir, DATA_DB_FILE), path.join(dataDir, LOG_DB_FILE), path.join(dataDir, LOCK_FILE)]);
    expect(lockHolder(path.join(dataDir, LOCK_FILE))).toBe(process.pid);
    s.persist({ hardState: HS1, entries: run(1, 1, 3) });
    save(s, z(1, 3), Buffer.alloc(1000));
    const sizes = s.sizes();
    expect(sizes.logBytes).toBeGreaterThan(0);
    expect(sizes.dataBytes).toBeGreaterThan(1000);
    closeAll();
    expect(lockHolder(path.join(dataDir, LOCK_FILE))).toBeUndefined();
    const db = new Database(path.join(dataDir, LOG_DB_FILE), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  test('keeps the txn log in dataLogDir and locks both dirs', () => {
    const dataDir = path.join(t.dir, 'data');
    const dataLogDir = path.join(t.dir, 'log');
    const s = openStore({ dataDir, dataLogDir });
    s.persist({ hardState: HS1, entries: run(1, 1, 3) });
    expect(fs.existsSync(path.join(dataLogDir, LOG_DB_FILE))).toBe(true);
    expect(fs.existsSync(path.join(dataDir, LOG_DB_FILE))).toBe(false);
    expect(fs.existsSync(path.join(dataLogDir, LOCK_FILE))).toBe(true);
    expect(() => openSqliteStore({ dataDir: path.join(t.dir, 'other'), dataLogDir })).toThrow(StoreLockedError);
  });

  test('a second open of a locked dir is refused', () => {
    openStore();
    expect(() => openSqliteStore({ dataDir: t.dir })).toThrow(StoreLockedError);
  });

  test('reopen after close preserves everything', () => {
    seed();
    const s = openStore();
    expect(s.readLog(0n)).toEqual(run(1, 1, 10));
    expect(s.hardState()).toEqual(HS1);
    expect(readSnapshotBytes(s, s.latestSnapshot()!).toString()).toBe('snapshot-five');
  });

  test('refuses a data dir holding Apache ZooKeeper data', () => {
    fs.mkdirSync(path.join(t.dir, 'version-2'));
    expectCorrupt(/not a zabkeeper data dir/);
    // An operator swapping ZooKeeper for zabkeeper on the same dirs is told the way over.
    expectCorrupt(/Move version-2\/ out.*zabkeeper export.*zabkeeper import/s);
  });

  test('refuses a dataLogDir holding Apache ZooKeeper data', () => {
    fs.mkdirSync(path.join(t.dir, 'log', 'version-2'), { recursive: true });
    expect(() => openStore({ dataLogDir: path.join(t.dir, 'log') })).toThrow(/version-2/);
  });

  test('refuses a file that is not a database', () => {
    seed();
    const file = path.join(t.dir, LOG_DB_FILE);
    const bytes = fs.readFileSync(file);
    bytes.fill(0x5a, 0, 100);
    fs.writeFileSync(file, bytes);
    expectCorrupt(/zabkeeper-log\.db/);
  });

  test('refuses a database whose pages are damaged', () => {
    const s = openStore();
    s.persist({ hardState: HS1 });
    for (let i = 0; i < 50; i++) s.persist({ entries: run(1, i * 20 + 1, i * 20 + 20) });
    closeAll();
    const file = path.join(t.dir, LOG_DB_FILE);
    const bytes = fs.readFileSync(file);
    expect(bytes.length).toBeGreaterThan(8192);
    // Garbage over the second page (a b-tree page): the header stays valid, the content does not.
    const pageSize = bytes.readUInt16BE(16);
    bytes.fill(0xa5, pageSize, pageSize * 2);
    fs.writeFileSync(file, bytes);
    expectCorrupt(/zabkeeper-log\.db/);
  });

  test('refuses an SQLite file of some other application', () => {
    raw(DATA_DB_FILE, (db) => db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)'));
    expectCorrupt(/not a zabkeeper one/);
  });

  test('refuses an unknown schema version', () => {
    seed();
    raw(LOG_DB_FILE, (db) => db.prepare("UPDATE meta SET value = 99 WHERE key = 'schema_version'").run());
    expectCorrupt(/schema version 99, this build reads version 2/);
  });

  test('refuses a txn log whose snapshot db was removed', () => {
    seed();
    for (const f of [DATA_DB_FILE, `${DATA_DB_FILE}-wal`, `${DATA_DB_FILE}-shm`]) fs.rmSync(path.join(t.dir, f), { force: true });
    expectCorrupt(/snapshot database .* missing/);
  });

  test('refuses snapshots whose txn log was removed', () => {
    seed();
    for (const f of [LOG_DB_FILE, `${LOG_DB_FILE}-wal`, `${LOG_DB_FILE}-shm`]) fs.rmSync(path.join(t.dir, f), { force: true });
    expectCorrupt(/txn log .* missing/);
  });

  test('finishes an interrupted creation (data db made, log db not yet)', () => {
    openStore();
    closeAll();
    for (const f of [LOG_DB_FILE, `${LOG_DB_FILE}-wal`, `${LOG_DB_FILE}-shm`]) fs.rmSync(path.join(t.dir, f), { force: true });
    const s = openStore();
    s.persist({ hardState: HS1, entries: run(1, 1, 1) });
    closeAll();
    expect(openStore().lastZxid()).toBe(z(1, 1));
  });

  test('refuses files from two different stores', () => {
    seed();
    raw(LOG_DB_FILE, (db) => db.prepare("UPDATE meta SET value = 'someone-else' WHERE key = 'store_id'").run());
    expectCorrupt(/different stores/);
  });

  test('refuses a hole inside an epoch', () => {
    seed();
    raw(LOG_DB_FILE, (db) => db.prepare('DELETE FROM log WHERE zxid = ?').run(z(1, 7)));
    expectCorrupt(/hole: 0x100000008 follows 0x100000006/);
  });

  test('refuses a new epoch that does not start at counter 1', () => {
    seed();
    raw(LOG_DB_FILE, (db) => {
      db.prepare('INSERT INTO log (zxid, data) VALUES (?, ?)').run(z(2, 3), Buffer.from('x'));
      db.prepare("UPDATE meta SET value = 2 WHERE key = 'accepted_epoch'").run();
    });
    expectCorrupt(/hole/);
  });

  test('refuses a log that starts after the newest snapshot + 1', () => {
    seed();
    raw(LOG_DB_FILE, (db) => db.prepare('DELETE FROM log WHERE zxid <= ?').run(z(1, 6)));
    expectCorrupt(/newest snapshot is at 0x100000005/);
  });

  test('refuses a log that does not start at the beginning when there is no snapshot', () => {
    seed();
    raw(LOG_DB_FILE, (db) => {
      db.exec('DELETE FROM snapshots');
      db.prepare('DELETE FROM log WHERE zxid <= ?').run(z(1, 2));
    });
    expectCorrupt(/no snapshot/);
  });

  test('refuses a log whose epoch metadata is missing', () => {
    seed();
    raw(LOG_DB_FILE, (db) => db.exec("UPDATE meta SET value = 0 WHERE key IN ('accepted_epoch', 'current_epoch')"));
    expectCorrupt(/acceptedEpoch/);
  });

  test('a body a crash left unnamed is ignored, then dropped by purge', () => {
    seed();
    raw(DATA_DB_FILE, (db) => db.prepare('INSERT INTO snapshot_chunks (key, crc, data) VALUES (?, ?, ?)').run(77 * 2 ** 20, 0, Buffer.alloc(5000)));
    const s = openStore();
    expect(s.listSnapshots().map((x) => x.zxid)).toEqual([z(1, 5)]);
    expect(s.readLog(0n)).toEqual(run(1, 1, 10));
    expect(s.purge(3).done).toBe(true);
    closeAll();
    raw(DATA_DB_FILE, (db) => expect(db.prepare('SELECT COUNT(*) FROM snapshot_chunks WHERE key >= ?').pluck().get(77 * 2 ** 20)).toBe(0));
  });

  test('refuses a named snapshot whose chunks are gone', () => {
    seed();
    raw(DATA_DB_FILE, (db) => db.exec('DELETE FROM snapshot_chunks'));
    expectCorrupt(/should have 1 chunks .* but has 0.*re-sync/s);
  });

  test('a damaged txn is refused when read, with how to re-sync the member', () => {
    seed();
    raw(LOG_DB_FILE, (db) => {
      const row = db.prepare('SELECT data FROM log WHERE zxid = ?').get(z(1, 7)) as { data: Buffer };
      row.data[3] ^= 0x10;
      db.prepare('UPDATE log SET data = ? WHERE zxid = ?').run(row.data, z(1, 7));
    });
    const s = openStore();
    expect(s.readLog(0n, 6)).toEqual(run(1, 1, 6));
    expect(() => s.readLog(z(1, 5))).toThrow(StoreCorruptError);
    expect(() => s.readLog(z(1, 5))).toThrow(/txn 0x100000007 .* is damaged \(checksum mismatch\).*move zabkeeper\.db\* and zabkeeper-log\.db\* out of .*keep the myid file/s);
  });

  test('a damaged snapshot chunk is refused when read', () => {
    seed();
    raw(DATA_DB_FILE, (db) => db.exec("UPDATE snapshot_chunks SET data = CAST('snapshot-fivX' AS BLOB)"));
    const s = openStore();
    expect(() => s.readSnapshotChunks(s.latestSnapshot()!, 0, 1)).toThrow(/snapshot 0x100000005 .*chunk 0 fails its checksum.*re-sync/s);
  });

  test('zxids with a large epoch round-trip as bigint', () => {
    const s = openStore();
    const epoch = 0x7fff_fff0;
    s.persist({ hardState: { acceptedEpoch: epoch, currentEpoch: epoch }, entries: run(epoch, 1, 2) });
    closeAll();
    const again = openStore();
    expect(again.readLog(0n).map((e) => e.zxid)).toEqual([z(epoch, 1), z(epoch, 2)]);
    expect(again.hardState().acceptedEpoch).toBe(epoch);
  });
});
