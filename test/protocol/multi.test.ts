/** Proves multi/multiRead request and response bodies round-trip, reject unknown sub-op types, and build failed-multi results as ZooKeeper does. */
import fc from 'fast-check';
import { ErrorCode, OpCode } from '../../protocol/jute/constants';
import { JuteDecodeError } from '../../protocol/jute/errors';
import {
  failedMultiResults, isMultiOpType, MULTI_READ_OP_TYPES, MultiOp, OpResult, readMultiRequest, readMultiResponse,
  writeMultiRequest, writeMultiResponse,
} from '../../protocol/jute/multi';
import { JuteReader } from '../../protocol/jute/reader';
import { JuteWriter } from '../../protocol/jute/writer';
import { arbCreate, arbCreateTTL, arbStat, hex, int32, nullableBytes, path_, plain, strings } from './helpers';

const arbOp: fc.Arbitrary<MultiOp> = fc.oneof(
  fc.record({ type: fc.constantFrom(OpCode.create, OpCode.create2, OpCode.createContainer), request: arbCreate }),
  fc.record({ type: fc.constant(OpCode.createTTL), request: arbCreateTTL }),
  fc.record({ type: fc.constant(OpCode.delete), request: fc.record({ path: path_, version: int32 }) }),
  fc.record({ type: fc.constant(OpCode.setData), request: fc.record({ path: path_, data: nullableBytes, version: int32 }) }),
  fc.record({ type: fc.constant(OpCode.check), request: fc.record({ path: path_, version: int32 }) }),
  fc.record({ type: fc.constant(OpCode.getData), request: fc.record({ path: path_, watch: fc.boolean() }) }),
  fc.record({ type: fc.constant(OpCode.getChildren), request: fc.record({ path: path_, watch: fc.boolean() }) }),
) as fc.Arbitrary<MultiOp>;

const arbResult: fc.Arbitrary<OpResult> = fc.oneof(
  fc.record({ type: fc.constant(OpCode.create), path: path_ }),
  fc.record({ type: fc.constant(OpCode.create2), path: path_, stat: arbStat }),
  fc.record({ type: fc.constant(OpCode.delete) }),
  fc.record({ type: fc.constant(OpCode.setData), stat: arbStat }),
  fc.record({ type: fc.constant(OpCode.check) }),
  fc.record({ type: fc.constant(OpCode.error), err: int32 }),
  fc.record({ type: fc.constant(OpCode.getData), data: nullableBytes, stat: arbStat }),
  fc.record({ type: fc.constant(OpCode.getChildren), children: strings }),
) as fc.Arbitrary<OpResult>;

const encode = <T>(f: (w: JuteWriter, v: T) => void, v: T): Buffer => {
  const w = new JuteWriter(8);
  f(w, v);
  return w.toBuffer();
};

test('requests round trip and end with the done header', () => {
  fc.assert(
    fc.property(fc.array(arbOp, { maxLength: 8 }), (ops) => {
      const b = encode(writeMultiRequest, ops);
      expect(b.subarray(b.length - 9).toString('hex')).toBe('ffffffff01ffffffff');
      const r = new JuteReader(b);
      expect(readMultiRequest(r)).toStrictEqual(plain(ops));
      expect(r.atEnd()).toBe(true);
    }),
    { numRuns: 100 },
  );
});

test('responses round trip', () => {
  fc.assert(
    fc.property(fc.array(arbResult, { maxLength: 8 }), (results) => {
      const r = new JuteReader(encode(writeMultiResponse, results));
      expect(readMultiResponse(r)).toStrictEqual(plain(results));
      expect(r.atEnd()).toBe(true);
    }),
    { numRuns: 100 },
  );
});

test('an empty multi is only the done header', () => {
  expect(encode(writeMultiRequest, []).toString('hex')).toBe('ffffffff01ffffffff');
  expect(encode(writeMultiResponse, []).toString('hex')).toBe('ffffffff01ffffffff');
  expect(readMultiRequest(new JuteReader(hex('ffffffff01ffffffff')))).toEqual([]);
});

test('sub-request headers carry err -1; result headers carry 0, or the error code for error results', () => {
  const req = encode(writeMultiRequest, [{ type: OpCode.delete, request: { path: '/a', version: -1 } }]);
  expect(req.subarray(0, 9).toString('hex')).toBe('0000000200ffffffff');
  const res = encode(writeMultiResponse, [{ type: OpCode.delete }, { type: OpCode.error, err: ErrorCode.noNode }]);
  expect(res.toString('hex')).toBe('000000020000000000' + 'ffffffff00ffffff9b' + 'ffffff9b' + 'ffffffff01ffffffff');
});

describe('bad multi bodies throw JuteDecodeError', () => {
  test.each([
    ['unknown sub-op type (getACL)', '00000006 00 ffffffff 00000002 2f61'],
    ['deleteContainer is not a multi sub-op', '00000014 00 ffffffff 00000002 2f61 ffffffff'],
    ['no done header', '00000002 00 ffffffff 00000002 2f61 ffffffff'],
    ['empty body', ''],
  ])('%s', (_n, h) => {
    expect(() => readMultiRequest(new JuteReader(hex(h)))).toThrow(JuteDecodeError);
  });

  test('unknown result type', () => {
    expect(() => readMultiResponse(new JuteReader(hex('00000006 00 00000000')))).toThrow(/unknown multi result type 6 at offset 0/);
  });

  test('random bytes never throw anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (u) => {
        for (const read of [readMultiRequest, readMultiResponse]) {
          try {
            read(new JuteReader(Buffer.from(u)));
          } catch (e) {
            if (!(e instanceof JuteDecodeError)) throw e;
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  test('writing an op of unknown type is refused', () => {
    const bogus = { type: 6, request: { path: '/a' } } as unknown as MultiOp;
    expect(() => encode(writeMultiRequest, [bogus])).toThrow();
  });
});

test('failedMultiResults: ok before, the code at, RuntimeInconsistency after', () => {
  expect(failedMultiResults(3, 1, ErrorCode.nodeExists)).toEqual([
    { type: -1, err: 0 },
    { type: -1, err: -110 },
    { type: -1, err: -2 },
  ]);
  // Byte-for-byte the 3.8.0 observation in the fact sheet (section 8).
  expect(encode(writeMultiResponse, failedMultiResults(3, 1, ErrorCode.nodeExists)).toString('hex')).toBe(
    hex('ffffffff 00 00000000 00000000 | ffffffff 00 ffffff92 ffffff92 | ffffffff 00 fffffffe fffffffe | ffffffff 01 ffffffff').toString('hex'),
  );
});

test('op type helpers', () => {
  expect([1, 2, 4, 5, 8, 13, 15, 19, 21].every(isMultiOpType)).toBe(true);
  expect([0, 3, 6, 14, 20, 22, -1].some(isMultiOpType)).toBe(false);
  expect([...MULTI_READ_OP_TYPES].sort()).toEqual([4, 8]);
});
