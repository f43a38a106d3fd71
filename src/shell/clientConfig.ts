/**
 * The connection settings zkCli takes besides `-server`: the ZKClientConfig properties file given
 * with `-client-configuration <file>` and the `-D` flags zkCli.sh passes to Java from
 * CLIENT_JVMFLAGS and JVMFLAGS (the file wins, as ZKClientConfig(file) lays it over the system
 * properties). Turned into ClientOptions: TLS (zookeeper.client.secure, zookeeper.ssl.* with the
 * server's key/trust store loaders, so PEM, PKCS12 and JKS all work) and a SASL DIGEST-MD5 login
 * from the JAAS `Client` section (java.security.auth.login.config, as a -D flag or, unlike zkCli,
 * also in the file). Fail closed: a security setting that cannot be honoured is a ClientConfigError.
 */
import fs from 'node:fs';
import { parseProperties } from '../config/properties';
import { parseJvmFlags, resolveClientSecurity, type ClientSecurityConfig, type RawSetting } from '../config/security';
import { digestSection, parseJaas } from '../config/jaas';
import { loadTlsMaterial, protocolOptions } from '../server/tls';
import type { ClientOptions, ClientTlsOptions, SaslOptions } from '../client/types';

export class ClientConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClientConfigError';
  }
}

/** The file's entries over the flags, keyed as the server keys are (`zookeeper.` stripped). */
export function clientSettings(fileText: string | undefined, file: string, env: NodeJS.ProcessEnv): Map<string, RawSetting> {
  const raw = new Map<string, RawSetting>();
  // zkCli.sh: java ... $CLIENT_JVMFLAGS $JVMFLAGS, and the last -D of a name wins.
  for (const name of ['CLIENT_JVMFLAGS', 'JVMFLAGS']) {
    for (const [k, v] of parseJvmFlags(env[name] ?? '', name)) raw.set(k, v);
  }
  for (const e of parseProperties(fileText ?? '')) {
    const key = e.key.startsWith('zookeeper.') ? e.key.slice('zookeeper.'.length) : e.key;
    raw.set(key, { value: e.value, line: e.line, origin: file, property: e.key });
  }
  return raw;
}

/** Reads the file and the environment; throws ClientConfigError naming what is wrong. */
export function loadClientOptions(configFile: string | undefined, env: NodeJS.ProcessEnv): Pick<ClientOptions, 'tls' | 'sasl' | 'maxFrameBytes'> {
  let text: string | undefined;
  if (configFile !== undefined) {
    try {
      text = fs.readFileSync(configFile, 'utf8');
    } catch (err) {
      throw new ClientConfigError(`-client-configuration: cannot read ${configFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const { security, issues } = resolveClientSecurity(clientSettings(text, configFile ?? '', env));
  if (issues.length > 0) {
    throw new ClientConfigError(issues.map((i) => `${i.line > 0 ? `${configFile}:${i.line}: ` : ''}${i.message}`).join('\n'));
  }
  const sasl = saslOf(security);
  return {
    ...(security.secure ? { tls: tlsOf(security) } : {}),
    ...(sasl ? { sasl } : {}),
    ...(security.maxFrameBytes !== undefined ? { maxFrameBytes: security.maxFrameBytes } : {}),
  };
}

function tlsOf(security: ClientSecurityConfig): ClientTlsOptions {
  let material;
  try {
    material = loadTlsMaterial(security.tls);
  } catch (err) {
    throw new ClientConfigError(`zookeeper.${(err as Error).message}`);
  }
  const { minVersion, maxVersion, ciphers } = protocolOptions(security.tls);
  return {
    ...(material.ca !== undefined ? { ca: material.ca } : {}),
    ...(material.cert !== undefined ? { cert: material.cert, key: material.key } : {}),
    ...(material.passphrase !== undefined ? { passphrase: material.passphrase } : {}),
    hostnameVerification: security.tls.hostnameVerification,
    minVersion: minVersion as ClientTlsOptions['minVersion'],
    maxVersion: maxVersion as ClientTlsOptions['maxVersion'],
    ...(ciphers ? { ciphers } : {}),
  };
}

/** The JAAS Client section's DIGEST-MD5 credentials, if SASL is on and a JAAS file is named. */
function saslOf(security: ClientSecurityConfig): SaslOptions | undefined {
  if (!security.saslEnabled || security.jaasFile === undefined) return undefined;
  const jaas = security.jaasFile;
  let text: string;
  try {
    text = fs.readFileSync(jaas, 'utf8');
  } catch (err) {
    throw new ClientConfigError(`java.security.auth.login.config: cannot read ${jaas}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const options = digestSection(parseJaas(text), security.saslSection).options;
    if (options.username === undefined || options.password === undefined) throw new Error(`section ${security.saslSection} needs username and password`);
    return { mechanism: 'DIGEST-MD5', username: options.username, password: options.password };
  } catch (err) {
    throw new ClientConfigError(`java.security.auth.login.config: ${jaas}: ${(err as Error).message}`);
  }
}
