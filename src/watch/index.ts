export { WatchManager, SET_WATCHES_ZXID, type WatchKind, type Delivery, type WatchLists, type NodeFacts, type MayRead } from './manager';
