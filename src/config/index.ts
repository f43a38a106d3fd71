export {
  parseZooCfg,
  loadConfig,
  applyMyId,
  assertNoErrors,
  formatIssue,
  ConfigError,
  DEFAULT_FOUR_LETTER_WHITELIST,
  type ZooCfg,
  type ServerSpec,
  type PeerRole,
  type ConfigIssue,
  type ParseResult,
  type ParseOptions,
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
