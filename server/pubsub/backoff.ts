/**
 * Bounded exponential backoff. The delay is drawn from the upper half of the current step, so
 * replicas that lost PostgreSQL at the same moment do not come back in lockstep.
 */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {}

  /** The delay before the next attempt; each call doubles the step up to the bound. */
  next(): number {
    const step = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.failures, 30));
    this.failures += 1;
    return Math.round(step / 2 + (Math.random() * step) / 2);
  }

  reset(): void {
    this.failures = 0;
  }
}

/** Waits `ms`, or less when `signal` aborts; never rejects, so callers check the signal themselves. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
