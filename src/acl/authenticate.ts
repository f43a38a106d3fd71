import type { Id } from '../../protocol/jute/data';
import { generateDigest } from './digest';

/**
 * The AuthPacket handler's decision: the ids a successful addauth adds to the connection, or
 * undefined for AuthFailed (unknown scheme). `ip` is accepted and adds nothing, because every
 * connection already carries its ip id (ZooKeeper re-adds the same id).
 */
export function authenticate(scheme: string, auth: Buffer, superDigest?: string): Id[] | undefined {
  if (scheme === 'digest') {
    const id = generateDigest(auth.toString('utf8'));
    const ids: Id[] = [{ scheme: 'digest', id }];
    if (superDigest !== undefined && superDigest !== '' && id === superDigest) ids.push({ scheme: 'super', id: '' });
    return ids;
  }
  if (scheme === 'ip') return [];
  return undefined;
}
