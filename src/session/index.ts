export { SessionTracker, type ExpiryBucket } from './tracker';
export { SessionIdGenerator, negotiateTimeout, sessionServerId } from './ids';
