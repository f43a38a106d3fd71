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
