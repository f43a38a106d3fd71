import { Perms } from '../../protocol/jute/constants';
import type { ACL } from '../../protocol/jute/data';

const PERM_LETTERS: readonly [number, string][] = [
  [Perms.create, 'c'],
  [Perms.delete, 'd'],
  [Perms.read, 'r'],
  [Perms.write, 'w'],
  [Perms.admin, 'a'],
];

/** ZKUtil.getPermString: letters in c d r w a order. */
export function permString(perms: number): string {
  return PERM_LETTERS.filter(([bit]) => (perms & bit) !== 0).map(([, l]) => l).join('');
}

/** ZKUtil.aclToString: `scheme:id:perms` per entry, concatenated without a separator. */
export function aclString(acl: readonly ACL[]): string {
  return acl.map((a) => `${a.id.scheme}:${a.id.id}:${permString(a.perms)}`).join('');
}
