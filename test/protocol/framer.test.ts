/**
 * Proves FrameDecoder yields the same frames however the byte stream is chunked (every split point and
 * random chunkings), rejects bad lengths before buffering, and avoids copies where it promises to.
 */
import fc from 'fast-check';
import { encodeFrame, FrameDecoder, FrameError } from '../../protocol/jute/framer';
import { hex, HANDMADE_DIR, loadFixtures } from './helpers';

const goldenFrames = loadFixtures(HANDMADE_DIR).map((f) => hex(f.hex));
const stream = Buffer.concat(goldenFrames);
const payloads = goldenFrames.map((f) => f.subarray(4));
const MAX = 0xfffff;

function collect(chunks: readonly Buffer[], maxFrameBytes = MAX): { frames: Buffer[]; decoder: FrameDecoder } {
  const decoder = new FrameDecoder({ maxFrameBytes });
  const frames: Buffer[] = [];
  for (const c of chunks) decoder.push(c, (p) => frames.push(Buffer.from(p)));
  return { frames, decoder };
}

const asHex = (bs: readonly Buffer[]): string[] => bs.map((b) => b.toString('hex'));

describe('FrameDecoder', () => {
  test('one chunk with every golden frame', () => {
    const { frames, decoder } = collect([stream]);
    expect(asHex(frames)).toEqual(asHex(payloads));
    expect(decoder.buffered).toBe(0);
  });

  test('the stream split at every offset', () => {
    for (let i = 0; i <= stream.length; i++) {
      const { frames, decoder } = collect([stream.subarray(0, i), stream.subarray(i)]);
      expect(frames.length).toBe(payloads.length);
      expect(asHex(frames)).toEqual(asHex(payloads));
      expect(decoder.buffered).toBe(0);
    }
  });

  test('each golden frame split at every pair of offsets', () => {
    for (const frame of goldenFrames.slice(0, 6)) {
      for (let i = 0; i <= frame.length; i++) {
        for (let j = i; j <= frame.length; j++) {
          const { frames } = collect([frame.subarray(0, i), frame.subarray(i, j), frame.subarray(j)]);
          expect(frames.length).toBe(1);
          expect(frames[0]!.equals(frame.subarray(4))).toBe(true);
        }
      }
    }
  });

  test('one byte at a time', () => {
    const chunks = Array.from(stream, (b) => Buffer.from([b]));
    expect(asHex(collect(chunks).frames)).toEqual(asHex(payloads));
  });

  test('random chunkings of random frames', () => {
    const arbFrames = fc.array(fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)), { maxLength: 12 });
    fc.assert(
      fc.property(arbFrames, fc.array(fc.nat(), { maxLength: 20 }), (bodies, cuts) => {
        const all = Buffer.concat(bodies.map(encodeFrame));
        const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let prev = 0;
        for (const p of [...points, all.length]) {
          chunks.push(all.subarray(prev, p));
          prev = p;
        }
        const { frames, decoder } = collect(chunks);
        expect(asHex(frames)).toEqual(asHex(bodies));
        expect(decoder.buffered).toBe(0);
      }),
    );
  });

  test('zero-length frames are delivered as empty buffers', () => {
    const { frames } = collect([hex('00000000 00000000'), hex('0000'), hex('0000 00000001 ff')]);
    expect(asHex(frames)).toEqual(['', '', '', 'ff']);
  });

  test('frames inside one chunk are views of it, not copies', () => {
    const chunk = Buffer.concat([encodeFrame(hex('aabb')), encodeFrame(hex('cc'))]);
    const got: Buffer[] = [];
    new FrameDecoder({ maxFrameBytes: MAX }).push(chunk, (p) => got.push(p));
    expect(got[0]!.buffer).toBe(chunk.buffer);
    expect(got[0]!.byteOffset).toBe(chunk.byteOffset + 4);
    expect(got[1]!.byteOffset).toBe(chunk.byteOffset + 10);
  });

  test('a frame split across many chunks is copied once', () => {
    const frame = encodeFrame(Buffer.alloc(1000, 1));
    const spy = jest.spyOn(Buffer, 'concat');
    try {
      const chunks = [];
      for (let i = 0; i < frame.length; i += 7) chunks.push(frame.subarray(i, i + 7));
      const { frames } = collect(chunks);
      expect(frames.length).toBe(1);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  test('buffered counts held bytes', () => {
    const d = new FrameDecoder({ maxFrameBytes: MAX });
    const none = (): void => {
      throw new Error('no frame expected');
    };
    d.push(hex('0000'), none);
    expect(d.buffered).toBe(2);
    d.push(hex('0003 aa'), none);
    expect(d.buffered).toBe(5);
    const got: Buffer[] = [];
    d.push(hex('bbcc 000000'), (p) => got.push(Buffer.from(p)));
    expect(asHex(got)).toEqual(['aabbcc']);
    expect(d.buffered).toBe(3);
  });

  test('state is settled before the callback, so a throwing callback leaves the rest decodable', () => {
    const d = new FrameDecoder({ maxFrameBytes: MAX });
    expect(() =>
      d.push(Buffer.concat([encodeFrame(hex('01')), encodeFrame(hex('02'))]), () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    const got: string[] = [];
    d.push(encodeFrame(hex('03')), (p) => got.push(p.toString('hex')));
    expect(got).toEqual(['03']);
  });

  describe('bad lengths', () => {
    test.each([
      ['negative', '80000000'],
      ['minus one', 'ffffffff'],
      ['over the limit', '00100000'],
      ['0x7fffffff', '7fffffff'],
      ['ASCII letters (an unknown four-letter word)', Buffer.from('xyzw').toString('hex')],
    ])('%s => FrameError', (_n, h) => {
      expect(() => collect([hex(h)])).toThrow(FrameError);
    });

    test('a limit-sized frame is accepted, one byte more is not', () => {
      const body = Buffer.alloc(100, 9);
      expect(collect([encodeFrame(body)], 100).frames.length).toBe(1);
      expect(() => collect([encodeFrame(Buffer.alloc(101))], 100)).toThrow(/frame length 101 exceeds limit 100/);
    });

    test('rejected as soon as the prefix is complete, even when split, before any body arrives', () => {
      const d = new FrameDecoder({ maxFrameBytes: MAX });
      d.push(hex('7f'), () => undefined);
      d.push(hex('ff'), () => undefined);
      expect(() => d.push(hex('ffff'), () => undefined)).toThrow(FrameError);
    });

    test('a bad frame after good ones: the good ones are delivered first', () => {
      const got: string[] = [];
      const d = new FrameDecoder({ maxFrameBytes: MAX });
      expect(() => d.push(Buffer.concat([encodeFrame(hex('01')), hex('ffffffff')]), (p) => got.push(p.toString('hex')))).toThrow(
        FrameError,
      );
      expect(got).toEqual(['01']);
    });
  });

  test('encodeFrame prefixes the length', () => {
    expect(encodeFrame(hex('abcdef')).toString('hex')).toBe('00000003abcdef');
    expect(encodeFrame(Buffer.alloc(0)).toString('hex')).toBe('00000000');
  });
});
