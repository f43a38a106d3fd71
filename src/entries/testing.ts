/**
 * `zabkeeper/testing`: real zabkeeper servers inside users' test processes (startTestServer, and
 * later startTestCluster). It loads the server; the client entry does not.
 */
export { startTestServer, type TestServer, type TestServerOptions } from '../client/testing';
