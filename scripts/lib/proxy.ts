/** The TCP proxy lives with the testing harness (src/testing/proxy.ts); scripts use the same one. */
export { startProxy, splitFrames } from '../../src/testing/proxy';
export type { Proxy, ProxyOptions, RecordedChunk, Direction } from '../../src/testing/proxy';
