/**
 * The nemesis's faults. `schedule` is pure: from the seed it decides the order of fault kinds (a
 * seeded permutation, repeated, so a run covers every enabled kind before repeating one), their
 * durations and the gaps between them. `Nemesis` executes one plan against the live cluster,
 * choosing concrete targets (the current leader, a random member, a minority) with a PRNG forked
 * from the same seed, and records what it did and when.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Prng } from '../../src/util/prng';
import type { FaultRecord } from './nemesis-checkers';
import { FAIL_STOP_EXIT_CODES, type Cluster, type ExitRecord } from './nemesis-cluster';
import { cutCommands, dropFrom, healCommands, run, type Topology } from './nemesis-net';

export const FAULT_KINDS = ['isolate-leader', 'split', 'one-way', 'flap', 'kill', 'pause', 'disk-full'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultPlan {
  kind: FaultKind;
  /** Offset from the start of the fault phase, ms. */
  at: number;
  /** How long the fault lasts, ms (a pause also lasts past the session timeout). */
  durationMs: number;
}

export function schedule(seed: number, secs: number, kinds: readonly FaultKind[], sessionTimeoutMs: number): FaultPlan[] {
  const rng = new Prng(seed).fork();
  const plans: FaultPlan[] = [];
  let t = 1000 + rng.int(1000);
  let order: FaultKind[] = [];
  while (t < secs * 1000 - 3000) {
    if (order.length === 0) order = rng.shuffle([...kinds]);
    const kind = order.shift()!;
    // Faults last 2/3 to 2 session timeouts (long enough for sessions to expire behind them).
    const durationMs = kind === 'pause' ? sessionTimeoutMs + rng.range(500, 2000) : rng.range(Math.round((sessionTimeoutMs * 2) / 3), sessionTimeoutMs * 2);
    plans.push({ kind, at: t, durationMs });
    // The fault, then time to heal and recover (elections, resyncs) before the next one.
    t += durationMs + rng.range(Math.round((sessionTimeoutMs * 2) / 3), Math.round((sessionTimeoutMs * 4) / 3));
  }
  return plans;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Nemesis {
  readonly records: FaultRecord[] = [];
  private readonly rng: Prng;

  constructor(
    private readonly cluster: Cluster,
    private readonly topology: Topology,
    seed: number,
    private readonly clock: () => number,
    private readonly log: (line: string) => void,
  ) {
    this.rng = new Prng(seed).fork().fork();
  }

  private get n(): number {
    return this.cluster.members.length;
  }

  /** The leader now (or a random member when there is none), or a random member. */
  private async target(leaderBias: number): Promise<{ index: number; role: string }> {
    if (this.rng.bool(leaderBias)) {
      const l = await this.cluster.leader();
      if (l !== undefined) return { index: l, role: 'leader' };
    }
    const index = this.rng.int(this.n);
    return { index, role: 'member' };
  }

  private other(than: number): number {
    const k = this.rng.int(this.n - 1);
    return k >= than ? k + 1 : k;
  }

  private async iptables(cmds: string[][]): Promise<void> {
    await Promise.all(cmds.map((c) => run(c)));
  }

  async healNetwork(): Promise<void> {
    await this.iptables(this.cluster.members.flatMap((_, i) => healCommands(this.topology, i)));
  }

  /** Runs one fault to completion (including its heal) and records it. */
  async apply(plan: FaultPlan): Promise<void> {
    const start = this.clock();
    const detail = await this.faults[plan.kind](plan.durationMs);
    const rec: FaultRecord = { kind: plan.kind, target: detail.target, start, end: this.clock(), detail: detail.note };
    this.records.push(rec);
    const at = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
    this.log(`fault ${plan.kind} on ${detail.target} from ${at(rec.start)} to ${at(rec.end)}${detail.note ? ` (${detail.note})` : ''}`);
  }

  private readonly faults: Record<FaultKind, (ms: number) => Promise<{ target: string; note?: string }>> = {
    'isolate-leader': async (ms) => {
      const l = (await this.cluster.leader()) ?? this.rng.int(this.n);
      const others = this.cluster.members.map((_, i) => i).filter((i) => i !== l);
      await this.iptables(others.flatMap((o) => cutCommands(this.topology, l, o)));
      await sleep(ms);
      await this.healNetwork();
      return { target: `m${l + 1}` };
    },
    split: async (ms) => {
      const order = this.rng.shuffle(this.cluster.members.map((_, i) => i));
      const minority = order.slice(0, Math.floor((this.n - 1) / 2));
      const majority = order.slice(minority.length);
      await this.iptables(minority.flatMap((a) => majority.flatMap((b) => cutCommands(this.topology, a, b))));
      await sleep(ms);
      await this.healNetwork();
      return { target: `{${minority.map((i) => `m${i + 1}`).join(',')}} | {${majority.map((i) => `m${i + 1}`).join(',')}}` };
    },
    'one-way': async (ms) => {
      const a = await this.target(0.5);
      const b = this.other(a.index);
      // a no longer hears b; b still hears a.
      await run(dropFrom(this.topology, a.index, b));
      await sleep(ms);
      await this.healNetwork();
      return { target: `m${a.index + 1} (${a.role}) deaf to m${b + 1}` };
    },
    flap: async (ms) => {
      const a = await this.target(0.5);
      const b = this.other(a.index);
      const end = this.clock() + ms;
      let flips = 0;
      while (this.clock() < end) {
        await this.iptables(cutCommands(this.topology, a.index, b));
        await sleep(this.rng.range(200, 700));
        await this.iptables([...healCommands(this.topology, a.index), ...healCommands(this.topology, b)]);
        await sleep(this.rng.range(200, 700));
        flips++;
      }
      return { target: `m${a.index + 1} (${a.role}) <-> m${b + 1}`, note: `${flips} flaps` };
    },
    kill: async (ms) => {
      const a = await this.target(0.5);
      const m = this.cluster.members[a.index]!;
      await m.kill9('kill');
      await sleep(Math.min(ms, this.rng.range(1000, 4000)));
      m.start();
      return { target: `m${a.index + 1} (${a.role})` };
    },
    pause: async (ms) => {
      const a = await this.target(0.5);
      const m = this.cluster.members[a.index]!;
      m.signal('SIGSTOP');
      await sleep(ms);
      m.signal('SIGCONT');
      return { target: `m${a.index + 1} (${a.role})` };
    },
    'disk-full': async (ms) => {
      const a = await this.target(0.3);
      const m = this.cluster.members[a.index]!;
      const filler = path.join(m.dataDir, 'nemesis-filler');
      m.expect = 'disk-full';
      const filled = fillDisk(filler);
      // The member fails when its next write does: wait for its exit, bounded.
      const deadline = this.clock() + ms + 8000;
      while (m.running && this.clock() < deadline) await sleep(100);
      const exit = m.running ? undefined : this.cluster.exits[this.cluster.exits.length - 1];
      if (m.running) m.expect = undefined;
      fs.rmSync(filler, { force: true });
      if (!m.running) m.start();
      return { target: `m${a.index + 1} (${a.role})`, note: `${(filled / 2 ** 20).toFixed(1)} MiB filler; ${describeExit(exit)}` };
    },
  };
}

export function describeExit(e: ExitRecord | undefined): string {
  if (!e) return 'kept running (no write reached the disk, or it survived)';
  const how = e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
  return `${how}${e.code !== null && FAIL_STOP_EXIT_CODES.includes(e.code) ? ' (fail-stop)' : ''}, restarted`;
}

/** Writes zeros until the file system is full; returns the bytes written. */
function fillDisk(file: string): number {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(1 << 20);
  let written = 0;
  try {
    for (;;) written += fs.writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
  // The last partial chunk: fill byte by byte-blocks until nothing fits.
  const fd2 = fs.openSync(file, 'a');
  try {
    for (let size = 1 << 16; size >= 512; ) {
      try {
        written += fs.writeSync(fd2, chunk.subarray(0, size));
      } catch {
        size >>= 1;
      }
    }
  } finally {
    fs.closeSync(fd2);
  }
  return written;
}
