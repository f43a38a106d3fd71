/**
 * zkCli's ACL syntax (AclParser): comma-separated `scheme:id:perms`, id being everything between
 * the first and the last colon (digest ids contain one). Malformed entries and unknown permission
 * letters are reported and skipped, as zkCli does; the warnings go to stderr.
 */
import { Perms } from '../../protocol/jute/constants';
import type { ACL } from '../../protocol/jute/data';

const PERM_OF: Readonly<Record<string, number>> = {
  r: Perms.read,
  w: Perms.write,
  c: Perms.create,
  d: Perms.delete,
  a: Perms.admin,
};

export interface ParsedAcl {
  acl: ACL[];
  warnings: string[];
}

export function parseAcl(text: string): ParsedAcl {
  const acl: ACL[] = [];
  const warnings: string[] = [];
  for (const a of javaSplit(text, ',')) {
    const first = a.indexOf(':');
    const last = a.lastIndexOf(':');
    if (first === -1 || first === last) {
      warnings.push(`${a} does not have the form scheme:id:perm`);
      continue;
    }
    let perms = 0;
    for (const ch of a.slice(last + 1)) {
      const bit = PERM_OF[ch];
      if (bit === undefined) warnings.push(`Unknown perm type: ${ch}`);
      else perms |= bit;
    }
    acl.push({ id: { scheme: a.slice(0, first), id: a.slice(first + 1, last) }, perms });
  }
  return { acl, warnings };
}

/**
 * Java's String.split: trailing empty strings are dropped (so "," gives []), but a string with no
 * separator at all comes back whole ("" gives [""]).
 */
export function javaSplit(s: string, sep: string | RegExp): string[] {
  const parts = s.split(sep);
  if (parts.length === 1) return parts;
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}
