import fc from 'fast-check';
import { SessionTracker, SessionIdGenerator, negotiateTimeout, sessionServerId } from '../../src/session';

describe('SessionTracker expiry buckets', () => {
  const tick = 2000;

  test('bucket is (now+timeout) rounded up to the NEXT tick multiple, exact multiples included', () => {
    const t = new SessionTracker({ tickTimeMs: tick });
    expect(t.bucketFor(0, 4000)).toBe(6000); // exact multiple moves on, like ExpiryQueue
    expect(t.bucketFor(1, 4000)).toBe(6000);
    expect(t.bucketFor(1999, 4000)).toBe(6000);
    expect(t.bucketFor(2000, 4000)).toBe(8000);
  });

  test('expired() boundaries: bucket T expires exactly when now >= T', () => {
    const t = new SessionTracker({ tickTimeMs: tick });
    t.add(1n, 4000, 500); // bucket 6000
    expect(t.expiresAt(1n)).toBe(6000);
    expect(t.nextExpiryAt()).toBe(6000);
    expect(t.expired(5999)).toEqual([]);
    expect(t.has(1n)).toBe(true);
    expect(t.expired(6000)).toEqual([1n]);
    expect(t.has(1n)).toBe(false);
    expect(t.size).toBe(0);
    expect(t.nextExpiryAt()).toBeUndefined();
    expect(t.expired(100000)).toEqual([]);
  });

  test('touch moves the session to a later bucket', () => {
    const t = new SessionTracker({ tickTimeMs: tick });
    t.add(1n, 4000, 0); // 6000
    t.add(2n, 4000, 0); // 6000
    expect(t.touch(1n, 3000)).toBe(true); // 7000 -> 8000
    expect(t.expiresAt(1n)).toBe(8000);
    expect(t.expired(6000)).toEqual([2n]);
    expect(t.expired(7999)).toEqual([]);
    expect(t.expired(8000)).toEqual([1n]);
  });

  test('touch within the same bucket keeps it; touch of unknown/closing is false', () => {
    const t = new SessionTracker({ tickTimeMs: tick });
    t.add(1n, 4000, 0);
    expect(t.touch(1n, 1999)).toBe(true);
    expect(t.expiresAt(1n)).toBe(6000);
    expect(t.touch(9n, 0)).toBe(false);
    t.setClosing(1n);
    expect(t.touch(1n, 100)).toBe(false);
    expect(t.isClosing(1n)).toBe(true);
  });

  test('closing sessions stay known but never expire; remove() forgets them', () => {
    const t = new SessionTracker({ tickTimeMs: tick });
    t.add(1n, 4000, 0);
    t.setClosing(1n);
    expect(t.has(1n)).toBe(true);
    expect(t.expired(1_000_000)).toEqual([]);
    expect(t.nextExpiryAt()).toBeUndefined();
    t.remove(1n);
    expect(t.has(1n)).toBe(false);
  });

  test('expired() returns older buckets first; timeoutOf; re-add replaces timeout', () => {
    const t = new SessionTracker({ tickTimeMs: 1000 });
    t.add(5n, 10000, 0); // 11000
    t.add(6n, 2000, 0); // 3000
    expect(t.timeoutOf(5n)).toBe(10000);
    expect(t.dumpBuckets()).toEqual([
      { expiresAt: 3000, sessions: [6n] },
      { expiresAt: 11000, sessions: [5n] },
    ]);
    t.add(5n, 1000, 0); // reconnect with a new timeout: 2000
    expect(t.timeoutOf(5n)).toBe(1000);
    expect(t.expired(20000)).toEqual([5n, 6n]);
  });

  test('property: a session touched at time x never expires before x + timeout, and always by x + timeout + tick', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 60000 }), fc.integer({ min: 0, max: 1e9 }), (tk, to, now) => {
        const t = new SessionTracker({ tickTimeMs: tk });
        t.add(1n, to, now);
        const at = t.expiresAt(1n)!;
        return at > now + to && at <= now + to + tk && at % tk === 0;
      }),
    );
  });

  test('rejects a non-positive tick', () => {
    expect(() => new SessionTracker({ tickTimeMs: 0 })).toThrow(RangeError);
  });
});

describe('SessionIdGenerator', () => {
  test('layout matches ZooKeeper: server id in the top byte, clock bits 16..55, counting up', () => {
    // The observed ZooKeeper id 0x010000349e930000 comes from elapsed ms whose low 40 bits are 0x349e93.
    const g = new SessionIdGenerator({ serverId: 1, startMs: 0x349e93 });
    expect(g.next()).toBe(0x010000349e930000n);
    expect(g.next()).toBe(0x010000349e930001n);
    expect(g.next()).toBe(0x010000349e930002n);
  });

  test('only the low 40 bits of the clock survive the shifts', () => {
    const g = new SessionIdGenerator({ serverId: 2, startMs: 0xab_cdef012345 });
    expect(g.next()).toBe(0x02cdef0123450000n);
  });

  test('ids are signed 64-bit: server ids >= 128 give negative ids', () => {
    const g = new SessionIdGenerator({ serverId: 200, startMs: 1 });
    const id = g.next();
    expect(id < 0n).toBe(true);
    expect(id).toBe(BigInt.asIntN(64, 0xc8_0000_0000_010000n));
    expect(sessionServerId(id)).toBe(200);
  });

  test('monotonic', () => {
    const g = new SessionIdGenerator({ serverId: 3, startMs: 123456789 });
    let prev = g.next();
    for (let i = 0; i < 100; i++) {
      const id = g.next();
      expect(id).toBe(prev + 1n);
      prev = id;
    }
  });

  test('observe jumps past ids from our server space only', () => {
    const g = new SessionIdGenerator({ serverId: 1, startMs: 1000 });
    const first = g.peek();
    g.observe(first + 10n);
    expect(g.next()).toBe(first + 11n);
    g.observe(first); // older: ignored
    expect(g.next()).toBe(first + 12n);
    g.observe(0x02ffffffffffffffn); // another server's space: ignored
    expect(g.next()).toBe(first + 13n);
  });

  test('observe works for negative (server id >= 128) ids', () => {
    const g = new SessionIdGenerator({ serverId: 255, startMs: 5 });
    const first = g.peek();
    g.observe(first + 100n);
    expect(g.next()).toBe(first + 101n);
  });
});

describe('negotiateTimeout', () => {
  const o = { minSessionTimeoutMs: 4000, maxSessionTimeoutMs: 40000 };
  test.each([
    [1, 4000],
    [4000, 4000],
    [30000, 30000],
    [40000, 40000],
    [1000000, 40000],
    [0, 4000],
    [-5, 4000],
  ])('requested %d -> %d', (req, want) => {
    expect(negotiateTimeout(req, o)).toBe(want);
  });
});
