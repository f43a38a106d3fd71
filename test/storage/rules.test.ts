import fc from 'fast-check';
import { checkAppend, historyProblem, planPurge } from '../../src/storage/rules';
import { isSuccessor } from '../../src/util/zxid';
import { entry, z } from './contract';

describe('storage rules', () => {
  test('isSuccessor: +1 within an epoch, counter 1 in a later epoch', () => {
    expect(isSuccessor(0n, z(1, 1))).toBe(true);
    expect(isSuccessor(0n, z(1, 2))).toBe(false);
    expect(isSuccessor(z(1, 5), z(1, 6))).toBe(true);
    expect(isSuccessor(z(1, 5), z(1, 7))).toBe(false);
    expect(isSuccessor(z(1, 5), z(4, 1))).toBe(true);
    expect(isSuccessor(z(1, 5), z(4, 2))).toBe(false);
    expect(isSuccessor(z(4, 1), z(1, 5))).toBe(false);
    expect(isSuccessor(z(1, 0xffffffff), z(2, 1))).toBe(true);
  });

  test('any chain built from legal steps passes checkAppend', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 })), { maxLength: 50 }), (steps) => {
        let epoch = 1;
        let counter = 0;
        const entries = steps.map((s) => {
          if (s > 0) {
            epoch += s;
            counter = 1;
          } else counter += 1;
          return entry(z(epoch, counter));
        });
        expect(() => checkAppend(z(1, 0), entries)).not.toThrow();
      }),
    );
  });

  test('checkAppend rejects zxids beyond signed 64 bits', () => {
    expect(() => checkAppend(0n, [entry(1n << 63n)])).toThrow(/valid zxid/);
  });

  test('planPurge keeps at least 3 and trims the log up to the oldest kept', () => {
    const snaps = [5, 1, 4, 2, 3].map((c) => ({ zxid: z(1, c) }));
    expect(planPurge(snaps, 0)).toEqual({ removeBelow: z(1, 3), logUpTo: z(1, 3) });
    expect(planPurge(snaps, 4)).toEqual({ removeBelow: z(1, 2), logUpTo: z(1, 2) });
    expect(planPurge(snaps, 5)).toEqual({ removeBelow: z(1, 1), logUpTo: z(1, 1) });
    expect(planPurge(snaps, 6)).toBeUndefined();
  });

  test('historyProblem accepts a log continuing from a snapshot across an epoch boundary', () => {
    const base = { gap: undefined, acceptedEpoch: 3 };
    expect(historyProblem({ ...base, firstLog: z(3, 1), lastLog: z(3, 4), latestSnapshot: z(2, 9), firstLogAfterSnapshot: z(3, 1) })).toBeUndefined();
    expect(historyProblem({ ...base, firstLog: z(3, 2), lastLog: z(3, 4), latestSnapshot: z(2, 9), firstLogAfterSnapshot: z(3, 2) })).toMatch(/missing/);
    expect(historyProblem({ ...base, firstLog: undefined, lastLog: undefined, latestSnapshot: z(2, 9), firstLogAfterSnapshot: undefined })).toBeUndefined();
  });
});
