import type { Id } from '../../protocol/jute/data';
import { generateDigest } from './digest';

/**
 * The AuthPacket handler's decision: the ids a successful addauth adds to the connection, or
 * undefined for AuthFailed (unknown scheme). `ip` is accepted and adds nothing, because every
 * connection already carries its ip id (ZooKeeper re-adds the same id).
 */
export function authenticate(scheme: string, auth: Buffer, superDigest?: string, digest: { enabled: boolean; alg: string } = { enabled: true, alg: 'sha1' }): Id[] | undefined {
  // DigestAuthenticationProvider.enabled=false: the scheme is not registered, so addauth fails.
  if (scheme === 'digest' && digest.enabled) {
    const id = generateDigest(auth.toString('utf8'), digest.alg);
    // Same order as DigestAuthenticationProvider: super (if it matches) is added before the digest id.
    const isSuperUser = superDigest !== undefined && superDigest !== '' && id === superDigest;
    return isSuperUser ? [{ scheme: 'super', id: '' }, { scheme: 'digest', id }] : [{ scheme: 'digest', id }];
  }
  if (scheme === 'ip') return [];
  return undefined;
}
