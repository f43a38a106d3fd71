export { WatchManager, SET_WATCHES_ZXID, type WatchKind, type Delivery, type WatchLists, type NodeFacts, type MayRead } from './manager';
export { WatchHistory, watchMatches, DEFAULT_HISTORY_LIMITS, type HistoryEvent, type HistoryLimits, type WatchPosition, type PersistentWatchMode } from './history';
