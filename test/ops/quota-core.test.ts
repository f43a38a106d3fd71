import { ErrorCode, OpCode } from '../../protocol/jute/constants';
import { deserializeSnapshot, serializeSnapshot } from '../../src/tree';
import { formatStatsTrack, parseStatsTrack, quotaRootOf } from '../../src/tree/quota';
import { Harness, OPEN } from '../core/harness';

/**
 * The quota rules in the pure core: which quota covers a path, how apply counts (the quota root
 * included, data bytes only), that enforcement counts writes still in flight (a pipelined burst
 * cannot overshoot a hard limit), and that a snapshot load recounts usage.
 */
function withQuota(h: Harness, path: string, limits: string): void {
  h.create('/zookeeper/quota' + path, { data: null });
  h.create(`/zookeeper/quota${path}/zookeeper_stats`, { data: Buffer.from('count=0,bytes=0') });
  h.create(`/zookeeper/quota${path}/zookeeper_limits`, { data: Buffer.from(limits) });
}

const stats = (h: Harness, path: string): string => h.db.tree.get(`/zookeeper/quota${path}/zookeeper_stats`)!.data!.toString();

const create = (h: Harness, path: string, data = 'x') => h.submit(OpCode.create, { path, data: Buffer.from(data), acl: OPEN, flags: 0 });

test('StatsTrack text round-trips, including 3.8\'s extra "=" before the hard limits', () => {
  const t = 'count=10,bytes=-1=;byteHardLimit=30;countHardLimit=-1';
  expect(formatStatsTrack(parseStatsTrack(t))).toBe(t);
  expect(parseStatsTrack('count=-1,bytes=1000').get('bytes')).toBe(1000);
  expect(parseStatsTrack('count=,bytes=junk').get('count')).toBe(-1);
});

test('the deepest quota at or above a path covers it, whole components only', () => {
  const h = new Harness();
  h.create('/a', { data: null });
  h.create('/ab', { data: null });
  h.create('/a/b', { data: null });
  expect(quotaRootOf(h.db.tree, '/a/b')).toBeUndefined();
  withQuota(h, '/a', 'count=100,bytes=-1');
  expect(quotaRootOf(h.db.tree, '/a/b/c')).toBe('/a');
  expect(quotaRootOf(h.db.tree, '/a')).toBe('/a');
  expect(quotaRootOf(h.db.tree, '/ab')).toBeUndefined();
  expect(quotaRootOf(h.db.tree, '/zookeeper/quota/a/zookeeper_stats')).toBeUndefined();
});

test('apply counts creates, deletes, setData and session-close deletes of ephemerals', () => {
  const h = new Harness();
  h.openSession();
  h.create('/app', { data: Buffer.from('12') });
  withQuota(h, '/app', 'count=100,bytes=-1');
  expect(stats(h, '/app')).toBe('count=1,bytes=2');
  h.create('/app/a', { data: Buffer.from('abc') });
  h.create('/app/e', { data: Buffer.from('e'), flags: 1 });
  h.setData('/app/a', Buffer.from('abcdef'));
  expect(stats(h, '/app')).toBe('count=3,bytes=9');
  h.closeSession();
  h.del('/app/a');
  expect(stats(h, '/app')).toBe('count=1,bytes=2');
});

test('enforcement counts writes in flight: a pipelined burst stops exactly at the hard limit', () => {
  const h = new Harness();
  h.create('/q', { data: null });
  withQuota(h, '/q', 'count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=4');
  const ctx = h.ctx.bind(h);
  h.ctx = (s) => ({ ...ctx(s), enforceQuota: true });
  const txns = Array.from({ length: 6 }, (_, i) => create(h, `/q/n${i}`));
  expect(txns.map((t) => (t.body.type === 'error' ? t.body.err : 0))).toEqual([0, 0, 0, ErrorCode.quotaExceeded, ErrorCode.quotaExceeded, ErrorCode.quotaExceeded]);
  h.commitAll();
  expect(stats(h, '/q')).toBe('count=4,bytes=3');
  // A delete in flight frees its slot for the create queued behind it; a failed multi frees nothing.
  h.submit(OpCode.delete, { path: '/q/n0', version: -1 });
  expect(create(h, '/q/again').body.type).toBe('create');
  const multi = h.submit(OpCode.multi, [
    { type: OpCode.delete, request: { path: '/q/n1', version: 5 } },
    { type: OpCode.create, request: { path: '/q/m', data: null, acl: OPEN, flags: 0 } },
  ]);
  expect(multi.body.type).toBe('multiError');
  expect(create(h, '/q/over').body).toEqual({ type: 'error', err: ErrorCode.quotaExceeded });
  h.commitAll();
  expect(stats(h, '/q')).toBe('count=4,bytes=3');
});

test('without enforceQuota nothing is rejected, and soft limits never reject', () => {
  const h = new Harness();
  h.create('/s', { data: null });
  withQuota(h, '/s', 'count=1,bytes=1');
  expect(h.create('/s/a', { data: Buffer.from('xyz') }).result.err).toBe(0);
  const ctx = h.ctx.bind(h);
  h.ctx = (s) => ({ ...ctx(s), enforceQuota: true });
  expect(h.create('/s/b', { data: Buffer.from('xyz') }).result.err).toBe(0);
  expect(stats(h, '/s')).toBe('count=3,bytes=6');
});

test('a snapshot load recounts usage (stats written before counting existed are corrected)', () => {
  const h = new Harness();
  h.create('/r', { data: Buffer.from('1') });
  h.create('/r/a', { data: Buffer.from('22') });
  withQuota(h, '/r', 'count=10,bytes=-1');
  h.db.tree.replaceValue('/zookeeper/quota/r/zookeeper_stats', Buffer.from('count=0,bytes=0'));
  const loaded = deserializeSnapshot(serializeSnapshot(h.db));
  expect(loaded.tree.get('/zookeeper/quota/r/zookeeper_stats')!.data!.toString()).toBe('count=2,bytes=3');
});
