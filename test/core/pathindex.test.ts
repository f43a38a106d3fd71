/**
 * Proves the byte-keyed path index (the tree's path -> slot map without a JS object per znode)
 * agrees with a Map under random adds, removes and lookups, for ASCII and non-ASCII paths, by
 * string and by bytes, across table growth and tombstone rebuilds — including lookups, adds and
 * removes while a resized table is still being drained into its successor (incremental rehash) —
 * and when a snapshot load indexes its paths in bulk.
 */
import fc from 'fast-check';
import { PathIndex } from '../../src/tree/pathindex';

const segment = fc.oneof(fc.stringMatching(/^[a-z0-9]{1,6}$/), fc.constantFrom('é', 'ü-x', '日本', '😀', 'zz'));
const pathArb = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => '/' + parts.join('/'));

// [first table size, old-table slots drained per write]: the default, and tiny ones so that most
// operations run while a drain is in progress.
test.each([
  [1024, 256],
  [8, 1],
  [16, 3],
])('PathIndex (table %i, drain %i) agrees with a Map', (minTable, drain) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.constantFrom('add', 'add', 'add', 'remove', 'removeSome', 'get'), pathArb, fc.nat()), { minLength: 50, maxLength: 400 }), (ops) => {
      const idx = new PathIndex(minTable, drain);
      const model = new Map<string, number>();
      const free: number[] = [];
      let next = 0;
      idx.grow(4096);
      for (const [kind, random, pick] of ops) {
        // removeSome removes a path that is indexed (a random path rarely is).
        const some = kind === 'removeSome' && model.size > 0 ? [...model.keys()][pick % model.size] : undefined;
        const op = kind === 'removeSome' ? 'remove' : kind;
        const path = some ?? random;
        const have = model.get(path);
        if (op === 'add' && have === undefined) {
          const s = free.pop() ?? next++;
          idx.add(s, path);
          model.set(path, s);
        } else if (op === 'remove' && have !== undefined) {
          idx.remove(have);
          model.delete(path);
          free.push(have);
        }
        expect(idx.get(path)).toBe(model.get(path));
        const bytes = Buffer.from(path);
        expect(idx.find(bytes, 0, bytes.length)).toBe(model.get(path));
      }
      expect(idx.size).toBe(model.size);
      for (const [path, s] of model) {
        expect(idx.get(path)).toBe(s);
        expect(idx.path(s)).toBe(path);
      }
    }),
    { numRuns: 100 },
  );
});

test('a million adds and removes keep lookups exact (tombstones are rebuilt away)', () => {
  const idx = new PathIndex();
  idx.grow(1 << 16);
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 50_000; i++) idx.add(i, `/r${round}/n${i}`);
    expect(idx.get(`/r${round}/n49999`)).toBe(49_999);
    for (let i = 0; i < 50_000; i++) idx.remove(i);
    expect(idx.get(`/r${round}/n0`)).toBeUndefined();
  }
  expect(idx.size).toBe(0);
});

test('paths loaded in bulk are indexed exactly like added ones (bucket runs wrap past the end, a table in use, duplicates refused)', () => {
  fc.assert(
    fc.property(fc.uniqueArray(pathArb, { maxLength: 600 }), fc.nat({ max: 600 }), fc.option(fc.nat(), { nil: undefined }), (paths, added, dupOf) => {
      const idx = new PathIndex();
      idx.grow(2048);
      const first = Math.min(added, paths.length);
      paths.slice(0, first).forEach((p, s) => idx.add(s, p));
      const loaded = paths.slice(first);
      // Optionally one path again: loaded twice or already added.
      const dup = dupOf !== undefined && paths.length > 0 ? paths[dupOf % paths.length] : undefined;
      if (dup !== undefined) loaded.push(dup);
      loaded.forEach((p, i) => {
        const b = Buffer.from(p);
        idx.addLoaded(first + i, b, b.length);
      });
      const twice = idx.indexLoaded();
      if (dup !== undefined) {
        expect(twice).toBeDefined();
        expect(idx.path(twice!)).toBe(dup);
        return;
      }
      expect(twice).toBeUndefined();
      expect(idx.size).toBe(paths.length);
      paths.forEach((p, s) => {
        expect(idx.get(p)).toBe(s);
        const parent = p.slice(0, Math.max(1, p.lastIndexOf('/')));
        expect(idx.parentSlotOf(s)).toBe(idx.get(parent));
      });
    }),
    { numRuns: 300 },
  );
});

test('a bulk load whose last buckets overflow wraps around to the table start without losing a path', () => {
  // FNV-1a, as the index hashes; a fresh index's table has 1,024 buckets.
  const bucket = (p: string) => [...Buffer.from(p)].reduce((h, b) => Math.imul(h ^ b, 0x01000193), 0x811c9dc5) & 1023;
  const candidates = Array.from({ length: 50_000 }, (_, i) => `/w/${i}`);
  const last = candidates.filter((p) => bucket(p) === 1023).slice(0, 12);
  const first = candidates.filter((p) => bucket(p) <= 2).slice(0, 12);
  const paths = ['/', '/w', ...last, ...first, ...candidates.slice(0, 200)];
  const unique = [...new Set(paths)];
  const idx = new PathIndex();
  idx.grow(1024);
  unique.forEach((p, s) => {
    const b = Buffer.from(p);
    idx.addLoaded(s, b, b.length);
  });
  expect(idx.indexLoaded()).toBeUndefined();
  unique.forEach((p, s) => expect(idx.get(p)).toBe(s));
  expect(idx.get('/w/none')).toBeUndefined();
});
