export {
  FOUR_LETTER_WORDS,
  TELNET_CLOSE,
  isFourLetterWord,
  parseWhitelist,
  notInWhitelistMessage,
  decideFourLetter,
  type FourLetterWord,
  type FourLetterDecision,
} from './commands';
export { formatFourLetter, renderFourLetter, formatSetTraceMask, connectionLine, fourLetterOpName, monitorEntries, NOT_SERVING, type MonitorValue } from './format';
export type { ServerSnapshot, ConnSnapshot, ConfSnapshot, LatencyStats, LeaderMetrics, ServerMode } from './snapshot';
export { watchFields, sessionFields } from './fromState';
export { Dbl, javaHex, javaDouble, javaDate, javaSocketAddress, round4 } from './java';
