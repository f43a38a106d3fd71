/**
 * `zabkeeper/client`: the client, its recipes and retry policies, with zero runtime and zero
 * native dependencies. Everything reachable from here is src/client, src/recipes,
 * protocol/jute and protocol/sasl (Node builtins only): importing it never loads the server, SQLite, msgpackr or
 * pino (test/client/packaging.test.ts checks the loaded module set).
 */
export * from '../client';
export * from '../recipes';
