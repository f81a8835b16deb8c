import type { IncomingMessage } from 'node:http';
import { principalOfRequest } from '../auth/http';
import { principalKey } from '../auth/principal';

/**
 * Whose budget a request spends: the signed-in user's (every token and browser of one user share
 * it, and users behind one NAT do not), otherwise the client's address.
 */
export function clientKey(request: IncomingMessage): string {
  const principal = principalOfRequest(request);
  return (principal && principalKey(principal)) ?? `address:${request.socket.remoteAddress ?? 'unknown'}`;
}

interface Bucket {
  tokens: number;
  /** performance.now() of the last refill. */
  at: number;
}

/** Buckets beyond this many are swept of the ones that have refilled (idle clients). */
const SWEEP_ABOVE = 10_000;

/** A token bucket per client: `burst` requests at once, refilled at `perSecond`. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Spends one token of `key`'s bucket: 0 when it had one, otherwise the seconds until it will. */
  take(key: string): number {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    if (!this.buckets.has(key)) {
      if (this.buckets.size >= SWEEP_ABOVE) this.sweep(now);
      this.buckets.set(key, bucket);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / this.perSecond;
  }

  /** A full bucket is the same as none, so forgetting it keeps memory to the active clients. */
  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(key);
    }
  }
}
