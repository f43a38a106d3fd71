/** Recording TCP proxy (implementation shared with scripts/capture-fixtures.ts). */
export { startProxy, splitFrames } from '../../scripts/lib/proxy';
export type { Proxy, RecordedChunk, Direction } from '../../scripts/lib/proxy';
