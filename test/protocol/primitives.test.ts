/** Proves the jute primitives encode exactly as the binary archive does, and every length check throws JuteDecodeError. */
import fc from 'fast-check';
import { JuteDecodeError } from '../../protocol/jute/errors';
import { JuteReader } from '../../protocol/jute/reader';
import { JuteWriter } from '../../protocol/jute/writer';
import { hex, int32, int64 } from './helpers';

const bytesOf = (f: (w: JuteWriter) => void): Buffer => {
  const w = new JuteWriter(16);
  f(w);
  return w.toBuffer();
};
const reader = (h: string, opts = {}): JuteReader => {
  const b = hex(h);
  return new JuteReader(b, 0, b.length, opts);
};

describe('JuteWriter primitives', () => {
  test.each([
    [0, '00000000'],
    [1, '00000001'],
    [-1, 'ffffffff'],
    [0x7fffffff, '7fffffff'],
    [-0x80000000, '80000000'],
  ])('int %d', (n, h) => expect(bytesOf((w) => w.writeInt(n)).toString('hex')).toBe(h));

  test.each([
    [0n, '0000000000000000'],
    [-1n, 'ffffffffffffffff'],
    [0x7fffffffffffffffn, '7fffffffffffffff'],
    [-0x8000000000000000n, '8000000000000000'],
    [0x010000349e930000n, '010000349e930000'],
  ])('long %s', (v, h) => expect(bytesOf((w) => w.writeLong(v)).toString('hex')).toBe(h));

  test('unsigned 64-bit markers are written as their two’s complement', () => {
    // CONTAINER_EPHEMERAL_OWNER is 0x8000000000000000n as an unsigned literal.
    expect(bytesOf((w) => w.writeLong(0x8000000000000000n)).toString('hex')).toBe('8000000000000000');
  });

  test('bool is one byte 0/1', () => {
    expect(bytesOf((w) => (w.writeBool(true), w.writeBool(false))).toString('hex')).toBe('0100');
  });

  test('null and empty buffers differ', () => {
    expect(bytesOf((w) => w.writeBuffer(null)).toString('hex')).toBe('ffffffff');
    expect(bytesOf((w) => w.writeBuffer(Buffer.alloc(0))).toString('hex')).toBe('00000000');
    expect(bytesOf((w) => w.writeBuffer(hex('abcd'))).toString('hex')).toBe('00000002abcd');
  });

  test('strings are length-prefixed UTF-8 bytes; null is -1', () => {
    expect(bytesOf((w) => w.writeString(null)).toString('hex')).toBe('ffffffff');
    expect(bytesOf((w) => w.writeString('')).toString('hex')).toBe('00000000');
    expect(bytesOf((w) => w.writeString('/é')).toString('hex')).toBe('000000032fc3a9');
  });

  test('vectors: count then items; null is -1', () => {
    const write = (v: number[] | null) => bytesOf((w) => w.writeVector(v, (x, n) => x.writeInt(n)));
    expect(write(null).toString('hex')).toBe('ffffffff');
    expect(write([]).toString('hex')).toBe('00000000');
    expect(write([1, -1]).toString('hex')).toBe('00000002' + '00000001' + 'ffffffff');
  });

  test('grows from a tiny buffer and keeps earlier bytes', () => {
    const w = new JuteWriter(1);
    const big = Buffer.alloc(10_000, 7);
    w.writeInt(42);
    w.writeBuffer(big);
    w.writeString('x'.repeat(5000));
    const out = w.toBuffer();
    expect(out.length).toBe(4 + 4 + 10_000 + 4 + 5000);
    expect(out.readInt32BE(0)).toBe(42);
    expect(out.subarray(8, 10_008).equals(big)).toBe(true);
  });

  test('frames: prefixes patched, several frames back to back, reset and toBuffer copy', () => {
    const w = new JuteWriter(4);
    w.beginFrame();
    w.writeInt(7);
    w.endFrame();
    w.beginFrame();
    w.endFrame();
    w.beginFrame();
    w.writeString('abc');
    w.endFrame();
    const out = w.toBuffer();
    expect(out.toString('hex')).toBe('00000004' + '00000007' + '00000000' + '00000007' + '00000003616263');
    w.reset();
    expect(w.length).toBe(0);
    w.writeInt(-1);
    expect(out.readInt32BE(4)).toBe(7); // the earlier copy is unaffected
    expect(w.toBuffer().toString('hex')).toBe('ffffffff');
  });

  test('frame misuse throws', () => {
    const w = new JuteWriter();
    expect(() => w.endFrame()).toThrow();
    w.beginFrame();
    expect(() => w.beginFrame()).toThrow();
  });
});

describe('JuteReader primitives', () => {
  test('ints, longs, bools round trip at the extremes', () => {
    fc.assert(
      fc.property(int32, int64, fc.boolean(), (i, l, b) => {
        const buf = bytesOf((w) => (w.writeInt(i), w.writeLong(l), w.writeBool(b)));
        const r = new JuteReader(buf);
        expect([r.readInt(), r.readLong(), r.readBool()]).toEqual([i, l, b]);
        expect(r.atEnd()).toBe(true);
      }),
    );
  });

  test('any non-zero byte is true, like the Java reader', () => {
    expect(reader('02').readBool()).toBe(true);
    expect(reader('ff').readBool()).toBe(true);
  });

  test('tryReadBool is undefined only at the end', () => {
    const r = reader('01');
    expect(r.tryReadBool()).toBe(true);
    expect(r.tryReadBool()).toBeUndefined();
  });

  test('-1 lengths decode to null; readUstring maps null to empty', () => {
    expect(reader('ffffffff').readBuffer()).toBeNull();
    expect(reader('ffffffff').readString()).toBeNull();
    expect(reader('ffffffff').readUstring()).toBe('');
    expect(reader('ffffffff').readVector((r) => r.readInt())).toBeNull();
    expect(reader('00000000').readBuffer()).toEqual(Buffer.alloc(0));
    expect(reader('00000000').readString()).toBe('');
    expect(reader('00000000').readVector((r) => r.readInt())).toEqual([]);
  });

  test('readBuffer returns a copy, not a view of the frame', () => {
    const src = hex('00000002abcd');
    const got = new JuteReader(src).readBuffer()!;
    src[4] = 0;
    expect(got.toString('hex')).toBe('abcd');
  });

  test('respects the [offset, end) window', () => {
    const b = hex('00000001 00000002 00000003');
    const r = new JuteReader(b, 4, 8);
    expect(r.remaining).toBe(4);
    expect(r.readInt()).toBe(2);
    expect(() => r.readInt()).toThrow(JuteDecodeError);
    expect(() => new JuteReader(b, 8, 4)).toThrow(RangeError);
  });

  test('strings and buffers round trip', () => {
    fc.assert(
      fc.property(fc.option(fc.string({ unit: 'binary' }), { nil: null }), fc.option(fc.uint8Array(), { nil: null }), (s, u) => {
        const b = u === null ? null : Buffer.from(u);
        const buf = bytesOf((w) => (w.writeString(s), w.writeBuffer(b)));
        const r = new JuteReader(buf);
        expect(r.readString()).toBe(s);
        expect(r.readBuffer()).toEqual(b);
        expect(r.atEnd()).toBe(true);
      }),
    );
  });
});

describe('JuteReader limit checks', () => {
  const cases: Array<[string, string, (r: JuteReader) => unknown, RegExp]> = [
    ['truncated int', '000000', (r) => r.readInt(), /int needs 4 bytes but only 3 remain at offset 0/],
    ['truncated long', '00000000000000', (r) => r.readLong(), /long needs 8/],
    ['missing bool', '', (r) => r.readBool(), /boolean needs 1/],
    ['negative buffer length', 'fffffffe', (r) => r.readBuffer(), /negative buffer length -2 at offset 0/],
    ['negative string length', '80000000', (r) => r.readString(), /negative string length/],
    ['negative vector count', 'fffffff0', (r) => r.readVector((x) => x.readInt()), /negative vector count/],
    ['buffer overruns record', '00000003 abcd', (r) => r.readBuffer(), /buffer length 3 overruns record at offset 0/],
    ['string overruns record', '00000384 61', (r) => r.readString(), /string length 900 overruns record at offset 0/],
    ['huge string length', '7fffffff', (r) => r.readString(), /exceeds maxbuffer/],
    ['vector count above remaining bytes', '00000005 00000001', (r) => r.readVector((x) => x.readInt()), /vector count 5 overruns/],
    ['huge vector count', '7fffffff', (r) => r.readVector((x) => x.readInt()), /vector count 2147483647 exceeds maxbuffer/],
    ['vector item truncated', '00000002 00000001 0000', (r) => r.readVector((x) => x.readInt()), /int needs 4/],
  ];
  test.each(cases)('%s', (_name, h, read, message) => {
    expect(() => read(reader(h))).toThrow(JuteDecodeError);
    expect(() => read(reader(h))).toThrow(message);
  });

  test('maxBufferBytes applies even when the bytes are present', () => {
    const r = reader('00000008 0102030405060708', { maxBufferBytes: 7 });
    expect(() => r.readBuffer()).toThrow(/buffer length 8 exceeds maxbuffer 7/);
    expect(reader('00000007 01020304050607', { maxBufferBytes: 7 }).readBuffer()!.length).toBe(7);
  });

  test('offsets in messages point at the length field', () => {
    const r = reader('00000001 00000009 61');
    r.readInt();
    expect(() => r.readString()).toThrow(/at offset 4/);
  });

  test('a vector count is rejected before any element is read', () => {
    let calls = 0;
    expect(() =>
      reader('00100000 00000001').readVector((x) => {
        calls++;
        return x.readInt();
      }),
    ).toThrow(JuteDecodeError);
    expect(calls).toBe(0);
  });
});
