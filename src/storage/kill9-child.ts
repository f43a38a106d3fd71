/**
 * TEST FIXTURE (not part of the server): the child process of test/storage/kill9.test.ts.
 * Usage: node dist/src/storage/kill9-child.js <dataDir> [written]
 * Appends batches of 1-5 entries to a SQLite store as fast as it can and, after each persist
 * returns (with `written`: once persistWritten reports it durable, up to 8 batches in flight),
 * writes the batch's last zxid to stdout. The parent SIGKILLs it mid-stream and checks that
 * every acknowledged zxid survived and that the log is a contiguous prefix.
 */
import fs from 'node:fs';
import { sealEntry } from '../util/checksum';
import { openSqliteStore } from './sqlite';
import type { LogEntry, Store } from './types';
import { nextZxid } from '../util/zxid';

const EPOCH = 1;
const MAX_BATCHES = 50_000; // a bound, in case the parent dies without killing us

/** Entry payload derived from the zxid so the parent can check content as well as presence. */
export function kill9Payload(zxid: bigint): Buffer {
  return sealEntry(zxid, Buffer.from(`txn-${zxid.toString(16)}-`.repeat(4)));
}

function batchAfter(zxid: bigint, i: number): LogEntry[] {
  const entries = [];
  for (let n = 1 + (i % 5); n > 0; n--) {
    zxid = nextZxid(zxid, EPOCH)!;
    entries.push({ zxid, data: kill9Payload(zxid) });
  }
  return entries;
}

const ack = (zxid: bigint): void => void fs.writeSync(1, `${zxid.toString()}\n`);

function main(dataDir: string, mode: string | undefined): void {
  const store = openSqliteStore({ dataDir });
  store.persist({ hardState: { acceptedEpoch: 1, currentEpoch: 1 } });
  let zxid = store.lastZxid();
  if (mode === 'written') return written(store, zxid);
  for (let i = 0; i < MAX_BATCHES; i++) {
    const entries = batchAfter(zxid, i);
    zxid = entries[entries.length - 1].zxid;
    store.persist({ entries });
    ack(zxid);
  }
  store.close();
}

/** persistWritten with up to 8 batches waiting for their fsync: acks in durable order. */
function written(store: Store, zxid: bigint): void {
  let inFlight = 0;
  let i = 0;
  const pump = (): void => {
    while (inFlight < 8 && i < MAX_BATCHES) {
      const entries = batchAfter(zxid, i++);
      const last = entries[entries.length - 1].zxid;
      zxid = last;
      inFlight++;
      store.persistWritten({ entries }, (err) => {
        if (err) throw err;
        inFlight--;
        ack(last);
        pump();
      });
    }
    if (inFlight === 0) store.close();
  };
  pump();
}

if (require.main === module) main(process.argv[2], process.argv[3]);
