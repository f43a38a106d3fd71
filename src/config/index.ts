export {
  parseZooCfg,
  loadConfig,
  serverJvmFlags,
  applyMyId,
  resolveClientAddress,
  assertNoErrors,
  formatIssue,
  issueLocation,
  ConfigError,
  DEFAULT_FOUR_LETTER_WHITELIST,
  type ZooCfg,
  type ServerSpec,
  type PeerRole,
  type ConfigIssue,
  type ParseResult,
  type ParseOptions,
  type ClientAddress,
} from './zoocfg';
export { parseProperties, type PropertyEntry } from './properties';
export {
  defaultOperationsConfig,
  PROMETHEUS_PROVIDER,
  DEFAULT_PROVIDER,
  type OperationsConfig,
  type MetricsConfig,
  type AdminConfig,
} from './operations';
export { resolveSecurity, resolveClientSecurity, parseJvmFlags, documentedKeys, type SecurityConfig, type ClientSecurityConfig, type TlsSettings, type StoreSpec, type RawSetting, type ClientAuth } from './security';
