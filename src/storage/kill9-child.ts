/**
 * TEST FIXTURE (not part of the server): the child process of test/storage/kill9.test.ts.
 * Usage: node dist/src/storage/kill9-child.js <dataDir>
 * Appends batches of 1-5 entries to a SQLite store as fast as it can and, after each persist
 * returns, writes the batch's last zxid to stdout. The parent SIGKILLs it mid-stream and checks that
 * every acknowledged zxid survived and that the log is a contiguous prefix.
 */
import fs from 'node:fs';
import { sealEntry } from '../util/checksum';
import { openSqliteStore } from './sqlite';
import { nextZxid } from '../util/zxid';

const EPOCH = 1;
const MAX_BATCHES = 50_000; // a bound, in case the parent dies without killing us

/** Entry payload derived from the zxid so the parent can check content as well as presence. */
export function kill9Payload(zxid: bigint): Buffer {
  return sealEntry(zxid, Buffer.from(`txn-${zxid.toString(16)}-`.repeat(4)));
}

function main(dataDir: string): void {
  const store = openSqliteStore({ dataDir });
  store.persist({ hardState: { acceptedEpoch: 1, currentEpoch: 1 } });
  let zxid = store.lastZxid();
  for (let i = 0; i < MAX_BATCHES; i++) {
    const entries = [];
    for (let n = 1 + (i % 5); n > 0; n--) {
      zxid = nextZxid(zxid, EPOCH)!;
      entries.push({ zxid, data: kill9Payload(zxid) });
    }
    store.persist({ entries });
    fs.writeSync(1, `${zxid.toString()}\n`);
  }
  store.close();
}

if (require.main === module) main(process.argv[2]);
