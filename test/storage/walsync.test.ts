/** Proves the WAL syncer reports durability in call order, shares one fdatasync among callers that arrive while one is in flight, and fails every caller (now and later) once a sync has failed. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WalSyncer } from '../../src/storage/walsync';

describe('WalSyncer', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zabkeeper-walsync-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const syncOnce = (s: WalSyncer): Promise<Error | undefined> => new Promise((resolve) => s.sync(resolve));

  test('callers are told in call order; those arriving during a sync share the next one', async () => {
    const file = path.join(dir, 'log.db-wal');
    fs.writeFileSync(file, 'frames');
    const s = new WalSyncer(file);
    const spy = jest.spyOn(fs, 'fdatasync');
    try {
      const order: number[] = [];
      const all = [1, 2, 3, 4].map((i) => syncOnce(s).then((err) => void order.push(err ? -i : i)));
      await Promise.all(all);
      expect(order).toEqual([1, 2, 3, 4]);
      // The first started at once; 2, 3 and 4 arrived while it ran and shared the second.
      expect(spy).toHaveBeenCalledTimes(2);
    } finally {
      spy.mockRestore();
      s.close();
    }
  });

  test('a failed sync fails its callers and every later one (never retried)', async () => {
    const s = new WalSyncer(path.join(dir, 'missing-wal'));
    const first = await syncOnce(s);
    expect(first?.message).toMatch(/ENOENT/);
    fs.writeFileSync(path.join(dir, 'missing-wal'), 'now it exists');
    expect(await syncOnce(s)).toBe(first);
    s.close();
  });

  test('callers still waiting at close are told the store closed', async () => {
    const file = path.join(dir, 'log.db-wal');
    fs.writeFileSync(file, 'frames');
    const s = new WalSyncer(file);
    const inFlight = syncOnce(s);
    const queued = syncOnce(s);
    s.close();
    expect(await inFlight).toBeUndefined();
    expect((await queued)?.message).toMatch(/closed before the sync/);
    expect((await syncOnce(s))?.message).toMatch(/closed before the sync/);
  });
});
