/**
 * IP address parsing and CIDR matching for the `ip` ACL scheme (IPAuthenticationProvider). Written
 * without node:net so the ACL layer stays free of I/O modules.
 */

function parseV4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    bytes.push(v);
  }
  return bytes;
}

function parseGroups(s: string): number[] | undefined {
  if (s === '') return [];
  const groups: number[] = [];
  const parts = s.split(':');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (i === parts.length - 1 && p.includes('.')) {
      const v4 = parseV4(p);
      if (!v4) return undefined;
      groups.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) groups.push(parseInt(p, 16));
    else return undefined;
  }
  return groups;
}

function parseV6(s: string): number[] | undefined {
  const zone = s.indexOf('%');
  const addr = zone >= 0 ? s.substring(0, zone) : s;
  const halves = addr.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0]);
  const tail = halves.length === 2 ? parseGroups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

/** Address text -> bytes (4 for IPv4, 16 for IPv6), or undefined if it is neither. */
export function addrToBytes(s: string): number[] | undefined {
  return parseV4(s) ?? (s.includes(':') ? parseV6(s) : undefined);
}

/** Whether an ACL id like `10.0.0.0/8`, `::1` or `127.0.0.1` is well formed. */
export function isValidIpAcl(aclId: string): boolean {
  const slash = aclId.indexOf('/');
  const addr = addrToBytes(slash < 0 ? aclId : aclId.substring(0, slash));
  if (!addr) return false;
  if (slash < 0) return true;
  const bitsText = aclId.substring(slash + 1);
  if (!/^\d+$/.test(bitsText)) return false;
  const bits = Number(bitsText);
  return bits >= 0 && bits <= addr.length * 8;
}

/** Does the caller's address fall inside the ACL's address/prefix? Family mismatch never matches. */
export function ipMatches(callerIp: string, aclId: string): boolean {
  if (!isValidIpAcl(aclId)) return false;
  const slash = aclId.indexOf('/');
  const acl = addrToBytes(slash < 0 ? aclId : aclId.substring(0, slash))!;
  const remote = addrToBytes(callerIp);
  if (!remote || remote.length !== acl.length) return false;
  const bits = slash < 0 ? acl.length * 8 : Number(aclId.substring(slash + 1));
  for (let i = 0; i < acl.length; i++) {
    const maskBits = Math.max(0, Math.min(8, bits - i * 8));
    const mask = (0xff << (8 - maskBits)) & 0xff;
    if ((acl[i] & mask) !== (remote[i] & mask)) return false;
  }
  return true;
}
