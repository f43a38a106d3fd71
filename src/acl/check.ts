import type { ACL, Id } from '../../protocol/jute/data';
import { isValidDigestId } from './digest';
import { ipMatches, isValidIpAcl } from './ip';

/** The schemes this server knows, with ZooKeeper's provider semantics. */
interface SchemeProvider {
  /** Ids of this scheme count as "authenticated" for the `auth` ACL expansion. */
  authenticated: boolean;
  isValid(id: string): boolean;
  matches(callerId: string, aclId: string): boolean;
}

/** KerberosName's syntax, which SASLAuthenticationProvider.isValid requires of `sasl` ids. */
const KERBEROS_NAME = /^[^/@]+(\/[^/@]+)?(@[^/@]+)?$/;

const providers: ReadonlyMap<string, SchemeProvider> = new Map<string, SchemeProvider>([
  ['digest', { authenticated: true, isValid: isValidDigestId, matches: (c, a) => c === a }],
  ['ip', { authenticated: false, isValid: isValidIpAcl, matches: ipMatches }],
  // X509AuthenticationProvider: any subject is a valid id; exact match.
  ['x509', { authenticated: true, isValid: () => true, matches: (c, a) => c === a }],
  // SASLAuthenticationProvider: the SASL user `super` matches every sasl ACL.
  ['sasl', { authenticated: true, isValid: (id) => KERBEROS_NAME.test(id), matches: (c, a) => c === a || c === 'super' }],
]);

/** Schemes ACLs may name when the server registers no extra provider (ZooKeeper's default registry). */
export const DEFAULT_ACL_SCHEMES: ReadonlySet<string> = new Set(['digest', 'ip']);

export function isSuper(authIds: readonly Id[]): boolean {
  return authIds.some((id) => id.scheme === 'super');
}

/**
 * ZooKeeperServer.checkACL: an empty ACL allows everything; a super id bypasses; otherwise some
 * entry whose perms intersect `perm` must be world:anyone or match one of the caller's ids.
 */
export function checkAcl(acl: readonly ACL[], perm: number, authIds: readonly Id[]): boolean {
  if (acl.length === 0 || isSuper(authIds)) return true;
  for (const a of acl) {
    if ((a.perms & perm) === 0) continue;
    if (a.id.scheme === 'world' && a.id.id === 'anyone') return true;
    const p = providers.get(a.id.scheme);
    if (p && authIds.some((c) => c.scheme === a.id.scheme && p.matches(c.id, a.id.id))) return true;
  }
  return false;
}

function sameAcl(a: ACL, b: ACL): boolean {
  return a.perms === b.perms && a.id.scheme === b.id.scheme && a.id.id === b.id.id;
}

/**
 * PrepRequestProcessor.fixupACL: drops duplicates, expands `auth` into the caller's authenticated
 * ids and validates every other id against the registered schemes. Returns the ACL to store, or
 * undefined for InvalidACL.
 */
export function fixupAcl(acl: readonly ACL[] | null, authIds: readonly Id[], schemes: ReadonlySet<string> = DEFAULT_ACL_SCHEMES): ACL[] | undefined {
  if (!acl || acl.length === 0) return undefined;
  if (acl.length === 1 && acl[0]!.id.scheme === 'world' && acl[0]!.id.id === 'anyone') return openAcl(acl[0]!.perms);
  const unique: ACL[] = [];
  for (const a of acl) if (!unique.some((u) => sameAcl(u, a))) unique.push(a);
  const out: ACL[] = [];
  for (const a of unique) {
    const scheme = a.id.scheme ?? '';
    const id = a.id.id ?? '';
    if (scheme === 'world' && id === 'anyone') out.push({ perms: a.perms, id: { scheme, id } });
    else if (scheme === 'auth') {
      const ids = authIds.filter((c) => schemes.has(c.scheme) && providers.get(c.scheme)?.authenticated);
      if (ids.length === 0) return undefined;
      for (const c of ids) out.push({ perms: a.perms, id: { scheme: c.scheme, id: c.id } });
    } else {
      // An ACL may only name a scheme whose provider is registered (authProvider.N), as in ZooKeeper.
      const p = schemes.has(scheme) ? providers.get(scheme) : undefined;
      if (!p || !p.isValid(id)) return undefined;
      out.push({ perms: a.perms, id: { scheme, id } });
    }
  }
  return out;
}

/**
 * One shared list per perms for the ACL nearly every create carries (world:anyone): fixupAcl ran
 * per create and made three arrays and two objects for it. Frozen: the list is shared by the txn,
 * the overlay and the tree (which keep ACL lists as given and never change them in place).
 */
const openAcls = new Map<number, ACL[]>();

function openAcl(perms: number): ACL[] {
  let list = openAcls.get(perms);
  if (!list) {
    list = Object.freeze([Object.freeze({ perms, id: Object.freeze({ scheme: 'world', id: 'anyone' }) })]) as ACL[];
    // perms is a client's int: keep at most the 32 meaningful values, make the rest each time.
    if ((perms & ~31) !== 0) return list;
    openAcls.set(perms, list);
  }
  return list;
}

/** 3.9 getACL for callers without ADMIN: digest ids keep the user and hide the hash ("user:x"). */
export function redactAcl(acl: readonly ACL[]): ACL[] {
  return acl.map((a) => {
    if (a.id.scheme !== 'digest') return a;
    const colon = a.id.id.indexOf(':');
    const user = colon < 0 ? a.id.id : a.id.id.substring(0, colon);
    return { perms: a.perms, id: { scheme: 'digest', id: `${user}:x` } };
  });
}
