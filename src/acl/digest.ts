import { createHash } from 'node:crypto';

/** DigestAuthenticationProvider.generateDigest: "user:password" -> "user:base64(sha1(user:password))". */
export function generateDigest(idPassword: string, alg = 'sha1'): string {
  const colon = idPassword.indexOf(':');
  const user = colon < 0 ? idPassword : idPassword.substring(0, colon);
  // alg: DigestAuthenticationProvider.digestAlg as a node:crypto hash name (SHA1 by default).
  return user + ':' + createHash(alg).update(idPassword, 'utf8').digest('base64');
}

/** Java's `id.split(":").length == 2` (trailing empty parts dropped). */
export function isValidDigestId(id: string): boolean {
  const parts = id.split(':');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.length === 2;
}
