/** Proves the peer frame codec round-trips every message, survives any split of the stream and rejects malformed input. */
import fc from 'fast-check';
import {
  PeerDecodeError,
  PeerFrameDecoder,
  PeerFrameError,
  type PeerMessage,
  ServerStates,
  decodeBody,
  decodePayload,
  encodeFrame,
  encodePayload,
} from '../../../protocol/peer';
import { Packr } from 'msgpackr';

// Epochs stop one short of 0xffffffff (PEER_EPOCH_MAX): a leader must always be able to add one.
const zxid = fc.bigInt({ min: 0n, max: (0xfffffffen << 32n) | 0xffffffffn });
const epoch = fc.integer({ min: -1, max: 0xfffffffe });
const sid = fc.integer({ min: -1, max: 0x7fffffff });
const count = fc.nat();
const bytes = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));

const message: fc.Arbitrary<PeerMessage> = fc.oneof(
  fc.record({
    type: fc.constant('notification' as const),
    vote: fc.record({ leader: sid, zxid, peerEpoch: epoch }),
    round: count,
    state: fc.constantFrom(...ServerStates),
  }),
  fc.record({ type: fc.constantFrom('followerinfo' as const, 'observerinfo' as const), acceptedEpoch: epoch, lastZxid: zxid }),
  fc.record({ type: fc.constant('leaderinfo' as const), epoch }),
  fc.record({
    type: fc.constant('ackepoch' as const),
    currentEpoch: epoch,
    lastZxid: zxid,
    history: fc.record({ base: zxid, epochs: fc.array(fc.record({ epoch, lastZxid: zxid }), { maxLength: 5 }) }),
  }),
  fc.record({ type: fc.constantFrom('diff' as const, 'trunc' as const, 'uptodate' as const, 'commit' as const, 'sync' as const), zxid }),
  fc.record({ type: fc.constantFrom('snap' as const, 'proposal' as const, 'inform' as const), zxid, data: bytes }),
  fc.record({ type: fc.constant('newleader' as const), epoch, zxid }),
  fc.record({ type: fc.constant('ack' as const), zxid, newLeader: fc.boolean() }),
  fc.record({ type: fc.constant('ping' as const), round: count, echoed: count }),
  fc.record({ type: fc.constant('heartbeat' as const) }),
  fc.record({ type: fc.constant('snapchunk' as const), seq: count, crc: fc.integer({ min: 0, max: 0xffffffff }), data: bytes }),
  fc.record({ type: fc.constant('request' as const), data: bytes }),
  fc.record({
    type: fc.constant('revalidate' as const),
    sessionId: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
    timeoutMs: fc.integer({ min: 0, max: 0x7fffffff }),
    valid: fc.boolean(),
  }),
);

const hex = (s: string): Buffer => Buffer.from(s.replace(/[\s|]/g, ''), 'hex');

describe('peer codec: golden frames', () => {
  // Built by hand from the layout (length, version, msgpack array), not from the encoder.
  const golden: Array<[string, PeerMessage]> = [
    ['00000005 | 01 | 93 0f 05 03', { type: 'ping', round: 5, echoed: 3 }],
    ['00000003 | 01 | 91 13', { type: 'heartbeat' }],
    ['0000000c | 01 | 92 0d d3 00000001 00000002', { type: 'commit', zxid: 0x100000002n }],
    ['0000000f | 01 | 93 0b d3 00000002 00000001 c4 01 78', { type: 'proposal', zxid: 0x200000001n, data: Buffer.from('x') }],
    ['0000000d | 01 | 93 0c d3 00000001 00000003 c3', { type: 'ack', zxid: 0x100000003n, newLeader: true }],
  ];
  it.each(golden)('%s', (h, msg) => {
    expect(encodeFrame(msg)).toEqual(hex(h));
    expect(new PeerFrameDecoder().push(hex(h))).toEqual([msg]);
  });
});

describe('peer codec: properties', () => {
  it('decode(encode(m)) = m for every message', () => {
    fc.assert(fc.property(message, (m) => expect(new PeerFrameDecoder().push(encodeFrame(m))).toEqual([m])), { numRuns: 500 });
  });

  it('frames split at any points decode to the same messages', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 6 }), (msgs, cuts) => {
        const stream = Buffer.concat(msgs.map(encodeFrame));
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const d = new PeerFrameDecoder();
        const out: PeerMessage[] = [];
        let prev = 0;
        for (const p of [...points, stream.length]) {
          out.push(...d.push(stream.subarray(prev, p)));
          prev = p;
        }
        expect(out).toEqual(msgs);
        expect(d.buffered).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('payload (version + body) round-trips and equals the frame minus its length prefix', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(decodePayload(encodePayload(m))).toEqual(m);
        expect(encodePayload(m)).toEqual(encodeFrame(m).subarray(4));
      }),
      { numRuns: 200 },
    );
    expect(() => decodePayload(hex('02 92 0f 05'))).toThrow(PeerFrameError);
  });

  it('byte-at-a-time delivery works', () => {
    const frame = encodeFrame({ type: 'proposal', zxid: 7n, data: Buffer.from('hello') });
    const d = new PeerFrameDecoder();
    const out: PeerMessage[] = [];
    for (const b of frame) out.push(...d.push(Buffer.from([b])));
    expect(out).toEqual([{ type: 'proposal', zxid: 7n, data: Buffer.from('hello') }]);
  });

  it('random garbage never crashes: it decodes or throws a codec error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (a) => {
        try {
          decodeBody(Buffer.from(a));
        } catch (e) {
          expect(e).toBeInstanceOf(PeerDecodeError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('peer codec: malformed input is rejected', () => {
  const packr = new Packr({ useRecords: false, int64AsType: 'bigint' });
  const frameOf = (body: Buffer, version = 1): Buffer => {
    const f = Buffer.alloc(5 + body.length);
    f.writeInt32BE(body.length + 1, 0);
    f.writeUInt8(version, 4);
    body.copy(f, 5);
    return f;
  };
  const bad = (value: unknown): (() => void) => () => new PeerFrameDecoder().push(frameOf(packr.pack(value)));

  it('a negative, tiny or oversized length, before buffering the body', () => {
    expect(() => new PeerFrameDecoder().push(hex('ffffffff'))).toThrow(PeerFrameError);
    expect(() => new PeerFrameDecoder().push(hex('00000001 01'))).toThrow(PeerFrameError);
    expect(() => new PeerFrameDecoder().push(hex('40000000'))).toThrow(/bad peer frame length 1073741824/);
    expect(() => new PeerFrameDecoder(100).push(hex('00000065'))).toThrow(PeerFrameError);
  });

  it('an unknown protocol version', () => {
    expect(() => new PeerFrameDecoder().push(frameOf(packr.pack([15, 1]), 2))).toThrow(/version 2/);
  });

  it('an unknown tag, a non-array body, a wrong field count', () => {
    expect(bad([99, 1])).toThrow(/unknown message tag 99/);
    expect(bad({ type: 'ping' })).toThrow(/non-empty array/);
    expect(bad([])).toThrow(/non-empty array/);
    expect(bad([15])).toThrow(/expected 2 fields, got 0/);
    expect(bad([15, 1, 2, 3])).toThrow(/expected 2 fields, got 3/);
  });

  it('fields of the wrong type or out of range', () => {
    expect(bad([15, -1, 0])).toThrow(/ping.round/);
    expect(bad([15, 1.5, 0])).toThrow(/ping.round/);
    expect(bad([15, 'x', 0])).toThrow(/ping.round/);
    expect(bad([13, -5n])).toThrow(/commit.zxid/);
    expect(bad([12, 1n, 1])).toThrow(/ack.newLeader: expected a boolean/);
    expect(bad([11, 1n, 'text'])).toThrow(/proposal.data: expected bytes/);
    expect(bad([1, 1, 1n, 1, 1, 9])).toThrow(/notification.state/);
    expect(bad([4, 0x100000000])).toThrow(/leaderinfo.epoch/);
    // The forged FOLLOWERINFO of issue 11: epoch 0xffffffff would overflow the next epoch.
    expect(bad([2, 0xffffffff, 1n])).toThrow(/followerinfo.acceptedEpoch/);
    expect(bad([2, 1, 0xffffffff00000001n])).toThrow(/followerinfo.lastZxid/);
    expect(bad([13, (1n << 64n) - 1n])).toThrow(/commit.zxid/);
    expect(bad([5, 1, 1n, 0n, [[1]]])).toThrow(/ackepoch.epochs\[0\]/);
  });

  it('trailing bytes after the body, or a truncated body', () => {
    const body = packr.pack([15, 1, 0]);
    expect(() => new PeerFrameDecoder().push(frameOf(Buffer.concat([body, Buffer.from([0])])))).toThrow(PeerDecodeError);
    expect(() => new PeerFrameDecoder().push(frameOf(hex('92 0d d3 0000')))).toThrow(PeerDecodeError);
  });

  it('accepts small zxids written as plain msgpack ints by another encoder', () => {
    expect(new PeerFrameDecoder().push(frameOf(packr.pack([13, 7])))).toEqual([{ type: 'commit', zxid: 7n }]);
  });
});
