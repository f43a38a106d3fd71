/**
 * Proves a 3-member ensemble of real processes started from ZooKeeper's Getting Started timing
 * (tickTime=2000, initLimit=5, syncLimit=2) keeps one leader under a write load (issue 9 item 1:
 * with syncLimit <= 2 the leader used to step down one tick after every election).
 */
import { CreateFlags, ErrorCode } from '../../protocol/jute/constants';
import { WireConnection } from '../../src/client/wire';
import { requests as rq } from '../../src/client/requests';
import { epochOf } from '../../src/quorum/zxid';
import { startEnsemble, type TestEnsemble } from '../../scripts/lib/ensemble-process';

/** Six ticks: the old code stepped down one tick (2 s) after every election. */
const LOAD_MS = 12_000;

describe("ZooKeeper's Getting Started config", () => {
  let ens: TestEnsemble;
  beforeAll(async () => {
    ens = await startEnsemble('zabkeeper', 3, { tickTime: 2000, extraCfg: { initLimit: '5', syncLimit: '2' } });
    await ens.waitServing(60_000);
  }, 90_000);
  afterAll(async () => {
    await ens?.stop();
  });

  test('keeps one leader and every connection under a write load', async () => {
    const leader = await ens.waitLeader();
    const follower = (leader + 1) % 3;
    const clients = await Promise.all(
      [leader, follower].map((i) => WireConnection.connect({ host: '127.0.0.1', port: ens.members[i].clientPort, sessionTimeoutMs: 30_000, connectTimeoutMs: 5000 })),
    );
    const closed: string[] = [];
    clients.forEach((c, i) => c.once('close', () => closed.push(`client ${i} lost its connection`)));
    expect((await rq.create(clients[0], '/load', null)).err).toBe(ErrorCode.ok);
    const epochs = new Set<number>();
    const failures: string[] = [];
    let writes = 0;
    const deadline = Date.now() + LOAD_MS;
    // Two pipelined lanes per client: through the leader and forwarded by a follower.
    const lanes = clients.flatMap((c) =>
      [0, 1].map(async () => {
        while (Date.now() < deadline && failures.length === 0) {
          const r = await rq.create(c, '/load/n-', Buffer.from('x'), CreateFlags.persistentSequential).catch((e: Error) => e);
          if (r instanceof Error) failures.push(r.message);
          else if (r.err !== ErrorCode.ok) failures.push(`error ${r.err}`);
          else {
            writes++;
            epochs.add(epochOf(r.zxid));
          }
        }
      }),
    );
    await Promise.all(lanes);
    expect({ failures: failures.slice(0, 3), closed }).toEqual({ failures: [], closed: [] });
    // Every write committed in one epoch: no election happened during the load.
    expect([...epochs]).toHaveLength(1);
    expect(await ens.members[leader].mode()).toBe('leader');
    expect(writes).toBeGreaterThan(100);
    for (const c of clients) c.close();
    // eslint-disable-next-line no-console
    console.log(`getting-started timing: ${writes} writes in ${LOAD_MS / 1000} s, one epoch, leader unchanged`);
  }, 60_000);
});
