/** Sanity of the golden frames captured from Apache by scripts/capture-fixtures.ts. */
import * as fs from 'fs';
import * as path from 'path';

const DIR = path.join(__dirname, '..', '..', 'protocol', 'fixtures', 'apache');
const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json'));
const load = (f: string) =>
  JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')) as { name: string; direction: string; hex: string; note: string };

test('fixtures exist', () => {
  expect(files.length).toBeGreaterThanOrEqual(40);
});

test.each(files)('%s: well-formed, one whole frame', (f) => {
  const fx = load(f);
  expect(`${fx.name}.json`).toBe(f);
  expect(['client', 'server']).toContain(fx.direction);
  expect(fx.note.length).toBeGreaterThan(0);
  const b = Buffer.from(fx.hex, 'hex');
  expect(b.toString('hex')).toBe(fx.hex);
  expect(b.readInt32BE(0)).toBe(b.length - 4);
});

test('key shapes: 36/37-byte connect responses, 3.8 notification zxid -1', () => {
  expect(Buffer.from(load('connect-response-readonly.json').hex, 'hex').readInt32BE(0)).toBe(37);
  expect(Buffer.from(load('connect-no-readonly-reply.json').hex, 'hex').readInt32BE(0)).toBe(36);
  const n = Buffer.from(load('create-fires-watch-reply-1.json').hex, 'hex');
  expect(n.readInt32BE(4)).toBe(-1);
  expect(n.readBigInt64BE(8)).toBe(-1n);
});
