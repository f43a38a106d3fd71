/** Proves validatePath follows ZooKeeper's PathUtils rules, including the sequential-prefix case. */
import { basename, parentOf, sequenceSuffix, validatePath } from '../../src/tree';

describe('validatePath', () => {
  const valid = ['/', '/a', '/a/b', '/a.b', '/..a', '/a..', '/.a', '/zookeeper/x', '/a b', '/ü/日本', '/a/.../b'];
  const invalid = [
    '', 'a', 'a/b', '/a/', '//', '/a//b', '/.', '/..', '/a/.', '/a/..', '/a/./b', '/a/../b',
    '/a\u0000b', '/a\u0001', '/a\u001f', '/a\u007f', '/a\u009f', '/a\ud800', '/a\uf8ff', '/a\ufff0', '/a\uffff',
  ];
  it.each(valid)('accepts %j', (p) => expect(validatePath(p)).toBeUndefined());
  it.each(invalid)('rejects %j', (p) => expect(validatePath(p)).toEqual(expect.any(String)));

  it('accepts a trailing slash only for sequential creates', () => {
    expect(validatePath('/a/', true)).toBeUndefined();
    expect(validatePath('/a/')).toBeDefined();
    expect(validatePath('/', true)).toBeUndefined();
    expect(validatePath('/a//', true)).toBeDefined();
    expect(validatePath('/a/.', true)).toBeUndefined(); // "/a/.1" is a normal name
  });

  it('rejects null and undefined', () => {
    expect(validatePath(null)).toBeDefined();
    expect(validatePath(undefined)).toBeDefined();
  });
});

describe('path helpers', () => {
  it('parentOf / basename', () => {
    expect(parentOf('/a')).toBe('/');
    expect(parentOf('/a/b/c')).toBe('/a/b');
    expect(parentOf('/')).toBeUndefined();
    expect(basename('/a/b')).toBe('b');
    expect(basename('/')).toBe('');
  });

  it('sequenceSuffix is %010d', () => {
    expect(sequenceSuffix(0)).toBe('0000000000');
    expect(sequenceSuffix(42)).toBe('0000000042');
    expect(sequenceSuffix(2147483647)).toBe('2147483647');
    expect(sequenceSuffix(-5)).toBe('-000000005');
  });
});
