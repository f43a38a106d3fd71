/** Public surface of the jute layer: constants, data records, codec primitives, framing, records, multi. */
export * from './constants';
export * from './data';
export * from './errors';
export * from './reader';
export * from './writer';
export * from './framer';
export * from './records';
export * from './multi';
export * from './extensions';
