import { randomBytes } from 'node:crypto';

/**
 * Randomness for the server shell, injected like the Clock: production passes `systemRng`
 * (session passwords come from the OS's CSPRNG), the simulator a seeded Prng so a seed replays.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** `n` random bytes (session passwords). */
  bytes(n: number): Buffer;
}

export const systemRng: Rng = {
  next: () => Math.random(),
  bytes: (n) => randomBytes(n),
};
