/**
 * The pure part of the Kafka-style controller demo: Kafka's ZooKeeper layout and JSON formats,
 * the controller's partition-leader decisions, and the checker that proves epochs never
 * overlapped. No clock, no client, no randomness: callers pass timestamps and state in, so the
 * decisions are unit-tested without a server (test/demo/kafka.test.ts).
 *
 * Layout (as Kafka 2.x writes it, minus what the demo does not need):
 *   /brokers/ids/<id>                              ephemeral, broker registration (version 5)
 *   /controller                                    ephemeral, {"version":1,"brokerid":N,"timestamp":"ms"}
 *   /controller_epoch                              persistent, the epoch as a decimal string
 *   /brokers/topics/<t>                            persistent, replica assignment (version 2)
 *   /brokers/topics/<t>/partitions/<p>/state      persistent, leader and ISR (version 1)
 */

export const PATHS = {
  brokerIds: '/brokers/ids',
  topics: '/brokers/topics',
  controller: '/controller',
  controllerEpoch: '/controller_epoch',
} as const;

export const brokerPath = (id: number): string => `${PATHS.brokerIds}/${id}`;
export const topicPath = (topic: string): string => `${PATHS.topics}/${topic}`;
export const partitionsPath = (topic: string): string => `${topicPath(topic)}/partitions`;
export const partitionPath = (topic: string, p: number): string => `${partitionsPath(topic)}/${p}`;
export const statePath = (topic: string, p: number): string => `${partitionPath(topic, p)}/state`;

// ------------------------------------------------------------------ JSON formats

/** Field order matches what a Kafka 2.x broker writes, so the znodes look familiar in zkCli. */
export function brokerRegistration(host: string, port: number, timestampMs: number): string {
  return JSON.stringify({
    listener_security_protocol_map: { PLAINTEXT: 'PLAINTEXT' },
    endpoints: [`PLAINTEXT://${host}:${port}`],
    jmx_port: -1,
    host,
    timestamp: String(timestampMs),
    port,
    version: 5,
  });
}

export function controllerData(brokerid: number, timestampMs: number): string {
  return JSON.stringify({ version: 1, brokerid, timestamp: String(timestampMs) });
}

/** The broker id in /controller's data, or undefined for anything unreadable. */
export function parseControllerId(data: Buffer | null): number | undefined {
  const v = parseJson(data) as { brokerid?: unknown } | undefined;
  return typeof v?.brokerid === 'number' ? v.brokerid : undefined;
}

/** /controller_epoch holds a bare decimal; an empty or odd value counts as 0 (Kafka's initial epoch). */
export function parseEpoch(data: Buffer | null): number {
  const n = Number(data?.toString('utf8') ?? '0');
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

export interface PartitionState {
  controller_epoch: number;
  leader: number;
  version: 1;
  leader_epoch: number;
  isr: number[];
}

export function encodeState(s: PartitionState): string {
  return JSON.stringify({ controller_epoch: s.controller_epoch, leader: s.leader, version: 1, leader_epoch: s.leader_epoch, isr: s.isr });
}

export function parseState(data: Buffer | null): PartitionState | undefined {
  const v = parseJson(data) as Partial<PartitionState> | undefined;
  if (!v || typeof v.leader !== 'number' || typeof v.leader_epoch !== 'number' || !Array.isArray(v.isr)) return undefined;
  return { controller_epoch: Number(v.controller_epoch ?? 0), leader: v.leader, version: 1, leader_epoch: v.leader_epoch, isr: v.isr.map(Number) };
}

/** Partition -> replica list, in preference order (the first replica is the preferred leader). */
export type Assignment = ReadonlyMap<number, readonly number[]>;

export function encodeAssignment(a: Assignment): string {
  const partitions: Record<string, readonly number[]> = {};
  for (const [p, replicas] of [...a].sort((x, y) => x[0] - y[0])) partitions[String(p)] = replicas;
  return JSON.stringify({ version: 2, partitions, adding_replicas: {}, removing_replicas: {} });
}

export function parseAssignment(data: Buffer | null): Assignment {
  const v = parseJson(data) as { partitions?: Record<string, unknown> } | undefined;
  const out = new Map<number, number[]>();
  for (const [p, r] of Object.entries(v?.partitions ?? {})) {
    if (Array.isArray(r) && Number.isSafeInteger(Number(p))) out.set(Number(p), r.map(Number));
  }
  return out;
}

/** Round-robin assignment like kafka-topics without a rack map: partition p starts at broker p. */
export function roundRobinAssignment(brokerIds: readonly number[], partitions: number, replicationFactor: number): Assignment {
  const ids = [...brokerIds].sort((a, b) => a - b);
  const rf = Math.min(replicationFactor, ids.length);
  const out = new Map<number, number[]>();
  for (let p = 0; p < partitions; p++) out.set(p, Array.from({ length: rf }, (_, k) => ids[(p + k) % ids.length]!));
  return out;
}

function parseJson(data: Buffer | null): unknown {
  if (!data || data.length === 0) return undefined;
  try {
    return JSON.parse(data.toString('utf8'));
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------ controller decisions

const inOrder = (replicas: readonly number[], keep: (r: number) => boolean): number[] => replicas.filter(keep);
const sameList = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The state a partition should have once the controller has seen the live broker set, or
 * undefined when the current state is already right. Kafka's rules with unclean election off:
 *   - a new partition gets the live replicas as ISR and the first of them as leader;
 *   - dead brokers leave the ISR; a live leader stays (same leader_epoch);
 *   - a dead leader is replaced by the first replica (assignment order) still in the ISR, with
 *     leader_epoch + 1; with no live ISR member the partition goes offline (leader -1) and keeps
 *     its last ISR, so the last in-sync replica can lead again when it returns.
 */
export function electPartition(
  replicas: readonly number[],
  live: ReadonlySet<number>,
  current: PartitionState | undefined,
  controllerEpoch: number,
): PartitionState | undefined {
  if (!current) {
    const isr = inOrder(replicas, (r) => live.has(r));
    return { controller_epoch: controllerEpoch, leader: isr[0] ?? -1, version: 1, leader_epoch: 0, isr };
  }
  const liveIsr = inOrder(replicas, (r) => current.isr.includes(r) && live.has(r));
  if (current.leader !== -1 && live.has(current.leader)) {
    if (sameList(liveIsr, current.isr)) return undefined;
    return { ...current, controller_epoch: controllerEpoch, isr: liveIsr };
  }
  const leader = liveIsr[0] ?? -1;
  if (leader === -1 && current.leader === -1) return undefined; // still offline
  const isr = leader === -1 ? current.isr : liveIsr;
  return { controller_epoch: controllerEpoch, leader, version: 1, leader_epoch: current.leader_epoch + 1, isr };
}

/**
 * One step of ISR maintenance for a partition, the demo's stand-in for the AlterIsr requests
 * leaders send: a live replica outside the ISR catches up and rejoins; otherwise leadership goes
 * back to the preferred replica (Kafka's auto leader rebalance); otherwise the last follower falls
 * behind and leaves the ISR (never below two members). It gives the controller a steady trickle of
 * writes, which is exactly what makes a paused controller dangerous.
 */
export function maintainIsr(
  replicas: readonly number[],
  live: ReadonlySet<number>,
  current: PartitionState,
  controllerEpoch: number,
): PartitionState | undefined {
  if (current.leader === -1) return undefined;
  const lagging = replicas.find((r) => live.has(r) && !current.isr.includes(r));
  if (lagging !== undefined) {
    const isr = inOrder(replicas, (r) => current.isr.includes(r) || r === lagging);
    return { ...current, controller_epoch: controllerEpoch, isr };
  }
  const preferred = replicas[0];
  if (preferred !== undefined && preferred !== current.leader && live.has(preferred) && current.isr.includes(preferred)) {
    return { ...current, controller_epoch: controllerEpoch, leader: preferred, leader_epoch: current.leader_epoch + 1 };
  }
  if (current.isr.length > 2) {
    const follower = [...current.isr].reverse().find((r) => r !== current.leader)!;
    return { ...current, controller_epoch: controllerEpoch, isr: current.isr.filter((r) => r !== follower) };
  }
  return undefined;
}

// ------------------------------------------------------------------ safety checker

export interface EpochBump {
  epoch: number;
  brokerid: number;
  /** zxid of the multi that created /controller and bumped /controller_epoch. */
  zxid: bigint;
}

export interface CommittedWrite {
  epoch: number;
  brokerid: number;
  zxid: bigint;
}

/**
 * Controller writes that landed outside their epoch's reign, i.e. after a later controller's
 * epoch bump (or before their own, or by a broker that never won that epoch): with epoch fencing
 * this must be empty. Reigns are ordered by
 * zxid, ZooKeeper's single global order, so wall clocks and paused processes cannot blur them.
 * Also reports epochs won twice and bumps that went backwards.
 */
export function checkEpochs(bumps: readonly EpochBump[], writes: readonly CommittedWrite[]): { outside: CommittedWrite[]; problems: string[] } {
  const problems: string[] = [];
  const sorted = [...bumps].sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.epoch <= sorted[i - 1]!.epoch) problems.push(`epoch ${sorted[i]!.epoch} (broker ${sorted[i]!.brokerid}) not above epoch ${sorted[i - 1]!.epoch}`);
  }
  const reign = (epoch: number): { brokerid: number; from: bigint; to: bigint | undefined } | undefined => {
    const i = sorted.findIndex((b) => b.epoch === epoch);
    return i < 0 ? undefined : { brokerid: sorted[i]!.brokerid, from: sorted[i]!.zxid, to: sorted[i + 1]?.zxid };
  };
  const outside = writes.filter((w) => {
    const r = reign(w.epoch);
    return !r || r.brokerid !== w.brokerid || w.zxid < r.from || (r.to !== undefined && w.zxid >= r.to);
  });
  return { outside, problems };
}
