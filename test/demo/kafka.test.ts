/** The controller demo's pure decisions and its epoch checker (scripts/demo/lib/kafka.ts). */
import fc from 'fast-check';
import {
  brokerRegistration,
  checkEpochs,
  controllerData,
  electPartition,
  encodeAssignment,
  encodeState,
  maintainIsr,
  parseAssignment,
  parseControllerId,
  parseEpoch,
  parseState,
  roundRobinAssignment,
  statePath,
  type PartitionState,
} from '../../scripts/demo/lib/kafka';

const buf = (s: string): Buffer => Buffer.from(s, 'utf8');
const state = (leader: number, isr: number[], leader_epoch = 0, controller_epoch = 1): PartitionState => ({ controller_epoch, leader, version: 1, leader_epoch, isr });

describe('Kafka znode formats', () => {
  test('broker registration has Kafka 2.x version-5 fields', () => {
    expect(JSON.parse(brokerRegistration('h1', 9092, 1700000000000))).toEqual({
      listener_security_protocol_map: { PLAINTEXT: 'PLAINTEXT' },
      endpoints: ['PLAINTEXT://h1:9092'],
      jmx_port: -1,
      host: 'h1',
      timestamp: '1700000000000',
      port: 9092,
      version: 5,
    });
  });

  test('/controller data and epoch', () => {
    expect(controllerData(2, 5)).toBe('{"version":1,"brokerid":2,"timestamp":"5"}');
    expect(parseControllerId(buf(controllerData(7, 1)))).toBe(7);
    expect(parseControllerId(buf('garbage'))).toBeUndefined();
    expect(parseControllerId(null)).toBeUndefined();
    expect(parseEpoch(buf('12'))).toBe(12);
    expect(parseEpoch(null)).toBe(0);
    expect(parseEpoch(buf('x'))).toBe(0);
  });

  test('partition state round-trips in Kafka field order', () => {
    const s = state(3, [3, 1], 4, 9);
    expect(encodeState(s)).toBe('{"controller_epoch":9,"leader":3,"version":1,"leader_epoch":4,"isr":[3,1]}');
    expect(parseState(buf(encodeState(s)))).toEqual(s);
    expect(parseState(buf('{}'))).toBeUndefined();
    expect(statePath('t', 2)).toBe('/brokers/topics/t/partitions/2/state');
  });

  test('assignment round-trips; round robin spreads preferred leaders', () => {
    const a = roundRobinAssignment([3, 1, 2], 4, 2);
    expect([...a]).toEqual([
      [0, [1, 2]],
      [1, [2, 3]],
      [2, [3, 1]],
      [3, [1, 2]],
    ]);
    expect(JSON.parse(encodeAssignment(a))).toEqual({ version: 2, partitions: { '0': [1, 2], '1': [2, 3], '2': [3, 1], '3': [1, 2] }, adding_replicas: {}, removing_replicas: {} });
    expect([...parseAssignment(buf(encodeAssignment(a)))]).toEqual([...a]);
  });
});

describe('electPartition', () => {
  const R = [1, 2, 3];
  test('new partition: live replicas in order, first leads', () => {
    expect(electPartition(R, new Set([2, 3]), undefined, 5)).toEqual(state(2, [2, 3], 0, 5));
  });
  test('live leader stays; dead followers leave the ISR', () => {
    expect(electPartition(R, new Set([1, 2, 3]), state(1, [1, 2, 3]), 2)).toBeUndefined();
    expect(electPartition(R, new Set([1, 3]), state(1, [1, 2, 3], 4), 2)).toEqual(state(1, [1, 3], 4, 2));
  });
  test('dead leader: first ISR replica in assignment order leads, leader_epoch + 1', () => {
    expect(electPartition(R, new Set([2, 3]), state(1, [1, 3, 2], 4), 2)).toEqual(state(2, [2, 3], 5, 2));
  });
  test('no live ISR member: offline, keeping the last ISR; it leads again when it returns', () => {
    const offline = electPartition(R, new Set([2, 3]), state(1, [1], 4), 2)!;
    expect(offline).toEqual(state(-1, [1], 5, 2));
    expect(electPartition(R, new Set([2, 3]), offline, 2)).toBeUndefined();
    expect(electPartition(R, new Set([1, 2, 3]), offline, 3)).toEqual(state(1, [1], 6, 3));
  });

  test('property: the result is stable, and its leader is live, in the ISR, and a replica', () => {
    const brokers = fc.subarray([1, 2, 3, 4, 5], { minLength: 1 });
    fc.assert(
      fc.property(brokers, fc.subarray([1, 2, 3, 4, 5]), fc.option(fc.tuple(fc.nat(5), fc.subarray([1, 2, 3, 4, 5]))), (replicas, liveList, cur) => {
        const live = new Set(liveList);
        // A well-formed state: ISR within the replicas, leader one of the ISR or -1 (offline).
        const isr = cur ? cur[1].filter((b) => replicas.includes(b)) : [];
        const current = cur ? state(isr[cur[0]] ?? -1, isr) : undefined;
        const next = electPartition(replicas, live, current, 7) ?? current!;
        expect(electPartition(replicas, live, next, 7)).toBeUndefined();
        if (next.leader !== -1) {
          expect(live.has(next.leader)).toBe(true);
          expect(next.isr).toContain(next.leader);
          expect(replicas).toContain(next.leader);
          expect(next.isr.every((b) => live.has(b))).toBe(true);
        }
      }),
    );
  });
});

describe('maintainIsr', () => {
  const R = [1, 2, 3];
  const all = new Set(R);
  test('a lagging live replica rejoins first', () => {
    expect(maintainIsr(R, all, state(2, [2, 3]), 1)).toEqual(state(2, [1, 2, 3]));
  });
  test('then leadership returns to the preferred replica', () => {
    expect(maintainIsr(R, all, state(2, [1, 2, 3], 3), 1)).toEqual(state(1, [1, 2, 3], 4));
  });
  test('then a follower falls behind, never below two in-sync replicas', () => {
    expect(maintainIsr(R, all, state(1, [1, 2, 3]), 1)).toEqual(state(1, [1, 2]));
    expect(maintainIsr([1, 2], new Set([1, 2]), state(1, [1, 2]), 1)).toBeUndefined();
    expect(maintainIsr(R, all, state(-1, [1]), 1)).toBeUndefined();
  });
  test('with every replica live there is always something to write (the demo relies on it)', () => {
    let s = state(1, [1, 2, 3]);
    for (let i = 0; i < 20; i++) {
      const next = maintainIsr(R, all, s, 1);
      expect(next).toBeDefined();
      expect(next!.isr).toContain(next!.leader);
      expect(next!.isr.length).toBeGreaterThanOrEqual(2);
      s = next!;
    }
  });
});

describe('checkEpochs', () => {
  const bumps = [
    { epoch: 1, brokerid: 1, zxid: 10n },
    { epoch: 2, brokerid: 2, zxid: 20n },
    { epoch: 3, brokerid: 3, zxid: 30n },
  ];
  test('writes inside their reign pass', () => {
    const writes = [
      { epoch: 1, brokerid: 1, zxid: 10n },
      { epoch: 1, brokerid: 1, zxid: 19n },
      { epoch: 2, brokerid: 2, zxid: 25n },
      { epoch: 3, brokerid: 3, zxid: 99n },
    ];
    expect(checkEpochs(bumps, writes)).toEqual({ outside: [], problems: [] });
  });
  test('a stale controller write after the next bump is caught, as is a write by the wrong broker', () => {
    const late = { epoch: 1, brokerid: 1, zxid: 21n };
    const impostor = { epoch: 2, brokerid: 1, zxid: 22n };
    const unknown = { epoch: 9, brokerid: 1, zxid: 40n };
    expect(checkEpochs(bumps, [late, impostor, unknown]).outside).toEqual([late, impostor, unknown]);
  });
  test('epochs that do not increase in zxid order are problems', () => {
    expect(checkEpochs([...bumps, { epoch: 2, brokerid: 1, zxid: 40n }], []).problems).toHaveLength(1);
  });
});
