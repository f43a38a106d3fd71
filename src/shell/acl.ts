/**
 * zkCli's ACL syntax (AclParser): comma-separated `scheme:id:perms`, id being everything between
 * the first and the last colon (digest ids contain one). Malformed entries and unknown permission
 * letters are reported and skipped, as zkCli does; the warnings go to stderr.
 */
import { Perms } from '../../protocol/jute/constants';
import type { ACL } from '../../protocol/jute/data';
import { javaSplit } from '../tree/quota';

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

/** Java's String.split (one implementation, shared with the quota StatsTrack parser). */
export { javaSplit };
