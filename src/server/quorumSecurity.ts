import fs from 'node:fs';
import type { Logger } from 'pino';
import type { SecurityConfig } from '../config';
import { digestSection, parseJaas, usersOf } from '../config/jaas';
import { PeerSecurity, type QuorumAuthSettings } from '../quorum/peerSecurity';
import { loadTlsMaterial, watchStores, type TlsMaterial } from './tls';
import { JaasConfigError } from './security';

/**
 * Builds the peer-link security of an ensemble member from its config, reading the ssl.quorum.*
 * stores and the JAAS quorum sections now, so a bad one stops the start naming its key. Returns
 * the PeerSecurity for the transport and a function that stops watching reloadable stores.
 */
export function quorumSecurity(sec: SecurityConfig, logger: Logger, timeoutMs: number): { security: PeerSecurity; stop: () => void } {
  let stop = (): void => undefined;
  let tlsOpt: ConstructorParameters<typeof PeerSecurity>[0]['tls'];
  if (sec.sslQuorum || sec.quorumPortUnification) {
    let material: TlsMaterial = loadTlsMaterial(sec.quorumTls);
    if (sec.sslQuorumReloadCertFiles) stop = watchStores(sec.quorumTls, logger, (m) => (material = m));
    tlsOpt = { settings: sec.quorumTls, material: () => material, sslQuorum: sec.sslQuorum, portUnification: sec.quorumPortUnification };
  }
  return { security: new PeerSecurity({ tls: tlsOpt, auth: quorumAuth(sec), logger, timeoutMs }), stop };
}

function quorumAuth(sec: SecurityConfig): QuorumAuthSettings | undefined {
  const q = sec.quorumAuth;
  if (!q.enableSasl) return undefined;
  if (!sec.jaasFile) throw new JaasConfigError('quorum.auth.enableSasl needs a JAAS file with the QuorumServer and QuorumLearner sections');
  let sections;
  try {
    sections = parseJaas(fs.readFileSync(sec.jaasFile, 'utf8'));
  } catch (err) {
    throw new JaasConfigError(`${sec.jaasFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const learner = digestSection(sections, q.learnerLoginContext).options;
    if (!learner.username || learner.password === undefined) throw new Error(`section ${q.learnerLoginContext} needs username and password`);
    const users = usersOf(digestSection(sections, q.serverLoginContext));
    if (users.size === 0) throw new Error(`section ${q.serverLoginContext} has no user_<name>="<password>" options`);
    return { learner: { username: learner.username, password: learner.password }, serverUsers: users, serverRequire: q.serverRequireSasl, learnerRequire: q.learnerRequireSasl };
  } catch (err) {
    throw new JaasConfigError(`${sec.jaasFile}: ${(err as Error).message}`);
  }
}
