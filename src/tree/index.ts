export { DataTree, copyStat, childCreates, aclKey, type ZNode, type NodeKind, type NodeInit, type NodeRow } from './datatree';
export { createDatabase, type ZkDatabase, type SessionRecord } from './database';
export { applyTxn, type ApplyResult, type SubResult } from './apply';
export { encodeTxn, decodeTxn, TxnCorruptError, type Txn, type TxnBody, type TxnType, type CreateTxnBody } from './txn';
export { serializeSnapshot, deserializeSnapshot, snapshotChunks, SnapshotEncoder, SnapshotDecoder, expectedNodes, SNAPSHOT_CHUNK_TARGET, treeDigest, nodeHash, findExpiredContainersAndTtls, isExpiredContainerOrTtl } from './snapshot';
export { validatePath, parentOf, basename, childPath, sequenceSuffix, SPECIAL_PATHS } from './paths';
export type { WatchEvent } from './events';
export * as quota from './quota';
