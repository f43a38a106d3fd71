/**
 * Proves the codec against hand-derived golden frames (protocol/fixtures/handmade): every fixture is
 * checked three ways (decode = object, encode = bytes, decode(encode(x)) = x), and every truncation of
 * it fails with JuteDecodeError.
 */
import * as fs from 'fs';
import * as path from 'path';
import { JuteDecodeError } from '../../protocol/jute/errors';
import { decodeRecords, encodeRecords, hex, HANDMADE_DIR, loadFixtures, revive } from './helpers';

/** Frames captured from Apache ZooKeeper 3.8 by scripts/capture-fixtures.ts, annotated with their records. */
const APACHE_DIR = path.join(__dirname, '../../protocol/fixtures/apache');
const handmade = loadFixtures(HANDMADE_DIR);
const apache = fs.existsSync(APACHE_DIR) ? loadFixtures(APACHE_DIR) : [];
const fixtures = [...handmade, ...apache];

test("frames captured from Apache ZooKeeper are present", () => {
  expect(apache.length).toBeGreaterThanOrEqual(40);
});

/** Records whose last field is optional: cutting exactly that byte still decodes. */
const OPTIONAL_TAIL = new Set(['ConnectRequest', 'ConnectResponse']);

test('handmade fixtures are present', () => {
  expect(handmade.length).toBeGreaterThanOrEqual(20);
});

describe.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, f) => {
  const frame = hex(f.hex);
  const payload = frame.subarray(4);
  const decoded = revive(f.decoded) as unknown[];

  test('length prefix matches the payload', () => {
    expect(frame.readInt32BE(0)).toBe(payload.length);
  });

  test('decode(bytes) equals the object', () => {
    expect(decodeRecords(f.records, payload)).toStrictEqual(decoded);
  });

  test('encode(object) equals the bytes', () => {
    expect(encodeRecords(f.records, decoded).toString('hex')).toBe(frame.toString('hex'));
  });

  test('decode(encode(object)) equals the object', () => {
    expect(decodeRecords(f.records, encodeRecords(f.records, decoded).subarray(4))).toStrictEqual(decoded);
  });

  test('every truncation throws JuteDecodeError', () => {
    const last = f.records[f.records.length - 1]!;
    const hasOptionalTail = OPTIONAL_TAIL.has(last) && (decoded[decoded.length - 1] as { readOnly?: boolean }).readOnly !== undefined;
    for (let cut = 0; cut < payload.length; cut++) {
      const truncated = payload.subarray(0, cut);
      if (hasOptionalTail && cut === payload.length - 1) {
        const got = decodeRecords(f.records, truncated);
        expect((got[got.length - 1] as { readOnly?: boolean }).readOnly).toBeUndefined();
        continue;
      }
      let error: unknown;
      try {
        decodeRecords(f.records, truncated);
      } catch (e) {
        error = e;
      }
      if (!(error instanceof JuteDecodeError)) throw new Error(`cut at ${cut}: expected JuteDecodeError, got ${String(error)}`);
    }
  });
});
