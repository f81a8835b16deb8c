/**
 * A seeded random number generator whose whole state is one 32-bit integer, so a checkpoint can
 * store it and a resumed run draws exactly the numbers the interrupted one would have drawn.
 * The step is mulberry32: tiny, fast, and statistically adequate for sampling and shuffling.
 */

export interface RngStep {
  readonly value: number;
  readonly state: number;
}

/** The pure transition: the next uint32 and the state after it. */
export function mulberry32(state: number): RngStep {
  const next = (state + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return { value: (t ^ (t >>> 14)) >>> 0, state: next };
}

export class Rng {
  private current: number;

  constructor(state: number) {
    if (!Number.isInteger(state) || state < 0 || state > 0xffffffff) {
      throw new Error(`rng state must be an integer in [0, 2^32), got ${state}`);
    }
    this.current = state;
  }

  /** Everything needed to resume this generator: `new Rng(rng.state)`. */
  get state(): number {
    return this.current;
  }

  nextUint32(): number {
    const step = mulberry32(this.current);
    this.current = step.state;
    return step.value;
  }

  /** Uniform in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / 0x100000000;
  }

  /** Uniform integer in [0, n). */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new Error(`rng range must be a positive integer, got ${n}`);
    return Math.floor(this.nextFloat() * n);
  }

  /** Standard normal (Box–Muller), for weight initialisation. */
  nextNormal(): number {
    const u = 1 - this.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.nextFloat());
  }

  /** A uniformly random permutation of 0..n−1 (Fisher–Yates). */
  permutation(n: number): Uint32Array {
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const held = order[i]!;
      order[i] = order[j]!;
      order[j] = held;
    }
    return order;
  }
}
