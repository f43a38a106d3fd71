/**
 * Simulated time for the whole-server simulator. One event queue orders everything that happens
 * in every simulated process; each event belongs to a process incarnation (an Owner). A crashed
 * owner's events are dropped; a stalled owner's (SIGSTOP, a long GC, a slow fsync) wait until the
 * stall ends and then run in Node's order: timers first, then I/O, then setImmediate callbacks —
 * so a server resuming from a stall sees the ticks it missed before anything it read meanwhile.
 */
import type { Clock, TimerHandle } from '../../../src/util/clock';
import { MinHeap } from './queue';

/** An invariant broke: the seed fails with this message. */
export class SimViolation extends Error {}

/** Node's event-loop phases, in the order they run at one instant. */
export const TIMERS = 0 as const;
export const IO = 1 as const;
export const IMMEDIATE = 2 as const;
type Phase = typeof TIMERS | typeof IO | typeof IMMEDIATE;

interface Ev {
  at: number;
  phase: Phase;
  seq: number;
  owner: Owner;
  fn: () => void;
  cancelled: boolean;
}

/** One incarnation of a simulated process. */
export class Owner {
  alive = true;
  /** While the process is stalled, its events wait; time it reads is the end of the stall. */
  busyUntil = 0;
  deferred: Ev[] = [];
  /** Added to the simulated time by its wall clock (clock jumps move it). */
  wallOffset: number;

  constructor(
    readonly name: string,
    wallOffset: number,
  ) {
    this.wallOffset = wallOffset;
  }
}

function before(a: Ev, b: Ev): boolean {
  if (a.at !== b.at) return a.at < b.at;
  if (a.phase !== b.phase) return a.phase < b.phase;
  return a.seq < b.seq;
}

export class World {
  now = 0;
  events = 0;
  private seq = 0;
  private readonly heap = new MinHeap<Ev>(before);
  /** Owner of events that belong to no process (the network, the fault schedule). */
  readonly god = new Owner('world', 0);

  schedule(owner: Owner, at: number, phase: Phase, fn: () => void): Ev {
    const ev: Ev = { at, phase, seq: this.seq++, owner, fn, cancelled: false };
    this.push(ev);
    return ev;
  }

  /** Time as `owner` reads it: inside a stall it has already reached the stall's end. */
  timeOf(owner: Owner): number {
    return owner.busyUntil > this.now ? owner.busyUntil : this.now;
  }

  /**
   * Stalls `owner` for `ms` from now (or from the end of a stall in progress): its events wait
   * and its writes leave at the end.
   */
  stall(owner: Owner, ms: number): void {
    const start = this.timeOf(owner);
    owner.busyUntil = start + ms;
    this.schedule(this.god, owner.busyUntil, TIMERS, () => this.resume(owner));
  }

  private resume(owner: Owner): void {
    if (!owner.alive || owner.busyUntil > this.now) return;
    const waiting = owner.deferred;
    owner.deferred = [];
    // Same instant, original phase and order: timers before I/O before immediates.
    for (const ev of waiting) {
      ev.at = this.now;
      this.push(ev);
    }
  }

  /** Runs the next event; false when the queue is empty. */
  step(): boolean {
    const ev = this.pop();
    if (!ev) return false;
    if (ev.cancelled || !ev.owner.alive) return true;
    if (ev.owner.busyUntil > ev.at) {
      ev.owner.deferred.push(ev);
      return true;
    }
    this.now = ev.at;
    this.events++;
    ev.fn();
    return true;
  }

  /** The Clock a process incarnation is given. */
  clockFor(owner: Owner): Clock {
    const handle = (ev: Ev): TimerHandle => ({ cancel: () => void (ev.cancelled = true) });
    return {
      now: () => this.timeOf(owner),
      wallNow: () => Math.floor(this.timeOf(owner) + owner.wallOffset),
      setTimeout: (fn, ms) => handle(this.schedule(owner, this.timeOf(owner) + Math.max(0, ms), TIMERS, fn)),
      setInterval: (fn, ms) => {
        const period = Math.max(1, ms);
        const h = { cancelled: false };
        let ev: Ev;
        const fire = (): void => {
          if (h.cancelled) return;
          ev = this.schedule(owner, this.timeOf(owner) + period, TIMERS, fire);
          fn();
        };
        ev = this.schedule(owner, this.timeOf(owner) + period, TIMERS, fire);
        return {
          cancel: () => {
            h.cancelled = true;
            ev.cancelled = true;
          },
        };
      },
      setImmediate: (fn) => void this.schedule(owner, this.timeOf(owner), IMMEDIATE, fn),
    };
  }

  private push(ev: Ev): void {
    this.heap.push(ev);
  }

  private pop(): Ev | undefined {
    return this.heap.pop();
  }
}
