/**
 * Deprecated location of startTestServer (kept so existing imports keep working): the test
 * harness lives in src/testing/ and is published as `zabkeeper/testing`.
 */
export { startTestServer, type TestServer, type TestServerOptions } from '../testing/server';
