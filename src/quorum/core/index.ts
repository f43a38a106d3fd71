export { QuorumCore } from './core';
export { LogView, planSync } from './log';
export type { Entry, SyncPlan } from './log';
export { compareVotes, sameVote, quorumSize, quorumValue } from './vote';
export * from './types';
