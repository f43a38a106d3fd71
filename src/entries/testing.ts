/**
 * `zabkeeper/testing`: real zabkeeper servers for users' tests: startTestServer (in-process;
 * `storage: 'memory'` needs no native module) and startTestCluster (member processes that can be
 * killed, paused, partitioned and restarted). It loads the server; the client entry does not.
 */
export { startTestServer, type TestServer, type TestServerOptions } from '../testing/server';
export { startTestCluster, type TestCluster, type TestClusterMember, type TestClusterOptions } from '../testing/cluster';
export type { ServerStatus } from '../testing/control';
