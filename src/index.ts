/**
 * The zabkeeper package: the TypeScript client and its recipes (what applications import), plus
 * the server for embedding. `zabkeeper/testing`-style use: `startTestServer` from
 * `./client/testing` runs a real server in-process for users' tests.
 */
export * from './client';
export * from './recipes';
export { startTestServer } from './client/testing';
export { ZkServer } from './server/zkserver';
export { defaultServerOptions, type ServerOptions } from './server/options';
