/**
 * The zabkeeper package: the TypeScript client and its recipes (what applications import), the
 * test servers, and the server for embedding. Applications that only need the client import
 * `zabkeeper/client` (src/entries/client.ts), which loads no server code and no native module.
 */
export * from './entries/client';
export * from './entries/testing';
export { ZkServer } from './server/zkserver';
export { defaultServerOptions, type ServerOptions } from './server/options';
