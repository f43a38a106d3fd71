import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateFlags } from '../../protocol/jute/constants';
import { WireConnection } from '../../src/client/wire';
import { requests as rq } from '../../src/client/requests';
import { startCliServer } from '../harness/cli';
import { freePort } from '../harness/ports';
import { until } from '../harness/wait';

/**
 * kill -9 during a stream of acknowledged creates: after restart every acknowledged create is
 * present and sequence numbers never repeat (ZOOKEEPER-1046's failure mode).
 */
describe('durability under kill -9 (real process)', () => {
  test('acknowledged creates survive kill -9; sequence numbers never repeat', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zabkeeper-kill9-'));
    const port = await freePort();
    const args = ['--port', String(port), '--data-dir', dataDir, '--tick-time', '500'];
    let server = await startCliServer(args, port);
    const acked: string[] = [];
    try {
      const c = await WireConnection.connect({ host: '127.0.0.1', port });
      await rq.create(c, '/k', null);
      // Pipelined writers: several creates outstanding at once, so the kill lands mid-batch.
      let stop = false;
      const writer = async () => {
        while (!stop) {
          const r = await rq.create(c, '/k/s-', Buffer.from('v'), CreateFlags.persistentSequential).catch(() => undefined);
          if (!r) return;
          if (r.err === 0) acked.push(r.body!.path);
        }
      };
      const writers = Array.from({ length: 8 }, writer);
      await until(() => acked.length >= 400, 'the writers to have 400 creates acknowledged');
      await server.kill9();
      stop = true;
      await Promise.all(writers);
      c.close();

      server = await startCliServer(args, port);
      const c2 = await WireConnection.connect({ host: '127.0.0.1', port });
      const children = new Set((await rq.getChildren(c2, '/k')).body!.children);
      const missing = acked.filter((p) => !children.has(p.slice(3)));
      expect(missing).toEqual([]);
      const next = await rq.create(c2, '/k/s-', null, CreateFlags.persistentSequential);
      const seqs = [...children].map((n) => Number(n.slice(2)));
      expect(Number(next.body!.path.slice(5))).toBeGreaterThan(Math.max(...seqs));
      c2.close();
      // eslint-disable-next-line no-console
      console.log(`kill -9 durability: ${acked.length} acknowledged, ${children.size} present after restart, 0 missing`);
    } finally {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
