export { createLogger, silentLogger } from './logger';
export { Prng } from './prng';
export { ZkError, codeName, isZkError, zkAssert, noNode, nodeExists, badArguments, noAuth, errorMessage } from './errors';
