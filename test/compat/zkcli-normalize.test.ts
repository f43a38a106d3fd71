/**
 * Proves the zkCli transcript normalizer takes watcher output out wherever zkCli's event thread
 * printed it, including inside a command's line (a flake seen in CI: `ls` appends its list a piece
 * at a time, and a watch event landed between "ttl" and ", zookeeper]").
 */
import { normalize } from './zkcli';

const EVENT = 'WatchedEvent state:SyncConnected type:NodeDataChanged path:/w1';

test('a watcher block inside a line leaves the line whole and keeps the event', () => {
  const raw = `v4\n[a, cont, ttl\nWATCHER::\n\n${EVENT}\n, zookeeper]\nCreated /w1\n`;
  expect(normalize(raw)).toMatchObject({ lines: ['v4', '[a, cont, ttl, zookeeper]', 'Created /w1'], events: [EVENT] });
});

test('a watcher block between lines, and events in order', () => {
  const second = 'WatchedEvent state:SyncConnected type:NodeDeleted path:/w2';
  const raw = `Created /w1\n\nWATCHER::\n\n${EVENT}\nCreated /w2\n\nWATCHER::\n\n${second}\n`;
  expect(normalize(raw)).toMatchObject({ lines: ['Created /w1', 'Created /w2'], events: [EVENT, second] });
});
