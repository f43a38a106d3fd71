/** Proves the ACL layer matches ZooKeeper: digest generation, addauth, checkACL incl. ip/CIDR/IPv6, fixupACL. */
import { createHash } from 'node:crypto';
import { Perms } from '../../protocol/jute/constants';
import type { ACL, Id } from '../../protocol/jute/data';
import { authenticate, checkAcl, fixupAcl, generateDigest, ipMatches, isValidIpAcl, redactAcl } from '../../src/acl';

const acl = (perms: number, scheme: string, id: string): ACL => ({ perms, id: { scheme, id } });

describe('digest', () => {
  it('is user:base64(sha1(user:password))', () => {
    const expected = 'bob:' + createHash('sha1').update('bob:secret').digest('base64');
    expect(generateDigest('bob:secret')).toBe(expected);
    // Known value from ZooKeeper docs: super:test
    expect(generateDigest('super:test')).toBe('super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
  });

  it('authenticate digest adds the digest id, and super when it equals superDigest', () => {
    expect(authenticate('digest', Buffer.from('bob:secret'))).toEqual([{ scheme: 'digest', id: generateDigest('bob:secret') }]);
    const ids = authenticate('digest', Buffer.from('super:test'), 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
    expect(ids).toContainEqual({ scheme: 'super', id: '' });
    expect(authenticate('digest', Buffer.from('super:wrong'), 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=')).toHaveLength(1);
  });

  it('unknown schemes fail; ip adds nothing', () => {
    expect(authenticate('kerberos', Buffer.from('x'))).toBeUndefined();
    expect(authenticate('ip', Buffer.from('1.2.3.4'))).toEqual([]);
  });
});

describe('ip matching', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1', true],
    ['127.0.0.2', '127.0.0.1', false],
    ['10.1.2.3', '10.0.0.0/8', true],
    ['11.1.2.3', '10.0.0.0/8', false],
    ['127.0.0.1', '10.0.0.0/8', false],
    ['192.168.1.77', '192.168.1.64/26', true],
    ['192.168.1.128', '192.168.1.64/26', false],
    ['1.2.3.4', '0.0.0.0/0', true],
    ['::1', '::1', true],
    ['0:0:0:0:0:0:0:1', '::1', true],
    ['fe80::1', 'fe80::/10', true],
    ['fec0::1', 'fe80::/10', false],
    ['127.0.0.1', '::1', false],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.0/120', true],
  ])('%s vs %s -> %s', (caller, aclId, expected) => expect(ipMatches(caller, aclId)).toBe(expected));

  it.each([
    ['10.0.0.0/8', true], ['1.2.3.4', true], ['::1', true], ['::1/128', true], ['::1/129', false],
    ['1.2.3.4/33', false], ['1.2.3', false], ['256.1.1.1', false], ['host', false], ['1.2.3.4/x', false], ['1::2::3', false],
  ])('isValidIpAcl(%s) = %s', (id, ok) => expect(isValidIpAcl(id)).toBe(ok));
});

describe('checkAcl', () => {
  const bob: Id = { scheme: 'digest', id: generateDigest('bob:pw') };
  const ip: Id = { scheme: 'ip', id: '127.0.0.1' };

  it('empty ACL allows everything; super bypasses', () => {
    expect(checkAcl([], Perms.admin, [])).toBe(true);
    expect(checkAcl([acl(Perms.read, 'digest', 'x:y')], Perms.write, [{ scheme: 'super', id: '' }])).toBe(true);
  });

  it('world:anyone grants only its perms', () => {
    const a = [acl(Perms.read, 'world', 'anyone')];
    expect(checkAcl(a, Perms.read, [])).toBe(true);
    expect(checkAcl(a, Perms.write, [])).toBe(false);
  });

  it('digest matches by equal id, ip by address', () => {
    const a = [acl(Perms.all, 'digest', bob.id), acl(Perms.read, 'ip', '127.0.0.0/8')];
    expect(checkAcl(a, Perms.write, [ip, bob])).toBe(true);
    expect(checkAcl(a, Perms.write, [ip])).toBe(false);
    expect(checkAcl(a, Perms.read, [ip])).toBe(true);
    expect(checkAcl(a, Perms.read, [{ scheme: 'ip', id: '10.0.0.1' }])).toBe(false);
  });

  it('a mask of several perms passes when any entry intersects it (getACL: READ|ADMIN)', () => {
    expect(checkAcl([acl(Perms.admin, 'world', 'anyone')], Perms.read | Perms.admin, [])).toBe(true);
    expect(checkAcl([acl(Perms.write, 'world', 'anyone')], Perms.read | Perms.admin, [])).toBe(false);
  });
});

describe('fixupAcl', () => {
  const bob: Id = { scheme: 'digest', id: generateDigest('bob:pw') };
  const ip: Id = { scheme: 'ip', id: '127.0.0.1' };

  it('rejects empty and null lists', () => {
    expect(fixupAcl([], [])).toBeUndefined();
    expect(fixupAcl(null, [])).toBeUndefined();
  });

  it('expands auth to the authenticated (non-ip) ids, or fails without any', () => {
    expect(fixupAcl([acl(31, 'auth', '')], [ip, bob])).toEqual([acl(31, 'digest', bob.id)]);
    expect(fixupAcl([acl(31, 'auth', '')], [ip])).toBeUndefined();
    expect(fixupAcl([acl(31, 'auth', '')], [])).toBeUndefined();
  });

  it('validates ids per scheme and drops duplicates', () => {
    expect(fixupAcl([acl(31, 'world', 'anyone'), acl(31, 'world', 'anyone')], [])).toEqual([acl(31, 'world', 'anyone')]);
    expect(fixupAcl([acl(31, 'world', 'someone')], [])).toBeUndefined();
    expect(fixupAcl([acl(31, 'digest', 'user:hash')], [])).toHaveLength(1);
    expect(fixupAcl([acl(31, 'digest', 'nohash')], [])).toBeUndefined();
    expect(fixupAcl([acl(31, 'digest', 'a:b:c')], [])).toBeUndefined();
    expect(fixupAcl([acl(31, 'ip', '10.0.0.0/8')], [])).toHaveLength(1);
    expect(fixupAcl([acl(31, 'ip', 'bogus')], [])).toBeUndefined();
    expect(fixupAcl([acl(31, 'sasl', 'x')], [])).toBeUndefined();
  });

  it('redactAcl hides digest hashes', () => {
    expect(redactAcl([acl(31, 'digest', 'bob:abc='), acl(1, 'world', 'anyone')])).toEqual([acl(31, 'digest', 'bob:x'), acl(1, 'world', 'anyone')]);
  });
});
