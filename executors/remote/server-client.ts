import type { Logger } from '../contract';
import { PROTOCOL_PREFIX, type ProtocolErrorBody } from '../protocol';
import { isProtocolErrorCode, ProtocolError } from '../protocol-error';

/** The caller gave up retrying (stopping, or the lease it wrote for has run out). */
export class GaveUp extends Error {}

export interface RetryPolicy {
  /** Keep retrying while this holds. */
  readonly while: () => boolean;
  /** Per-request timeout. */
  readonly timeoutMs: number;
  /** Abandons the request in flight, e.g. a long-poll the caller no longer wants once it is stopping. */
  readonly signal?: AbortSignal;
}

const BACKOFF_MIN_MS = 200;
const BACKOFF_MAX_MS = 5_000;
const MAX_INTERNAL_ANSWERS = 8;

/**
 * Speaks the worker protocol to one of several server replicas. A request that fails on the
 * network or with a 5xx moves on to the next URL and retries with jittered exponential backoff
 * while the caller's policy allows; a 4xx protocol error is final and thrown as is.
 */
export class ServerClient {
  private current = 0;

  constructor(
    private readonly servers: readonly string[],
    private readonly token: string,
    private readonly log: Logger,
  ) {
    if (servers.length === 0) throw new Error('at least one server URL is required');
  }

  /** The server requests go to now (failing over moves it on). */
  get serverUrl(): string {
    return this.servers[this.current]!.replace(/\/+$/, '');
  }

  get authorization(): Record<string, string> {
    return { authorization: `Bearer ${this.token}` };
  }

  async post<T>(path: string, body: unknown, policy: RetryPolicy): Promise<T> {
    return this.withRetry(policy, async () => {
      const res = await fetch(`${this.serverUrl}${PROTOCOL_PREFIX}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.authorization },
        body: JSON.stringify(body),
        signal: policy.signal ? AbortSignal.any([AbortSignal.timeout(policy.timeoutMs), policy.signal]) : AbortSignal.timeout(policy.timeoutMs),
      });
      return readAnswer<T>(res);
    });
  }

  /** Runs `attempt` against the current server, failing over and backing off on transient errors. */
  async withRetry<T>(policy: RetryPolicy, attempt: () => Promise<T>): Promise<T> {
    let internal = 0;
    for (let failures = 0; ; failures++) {
      if (!policy.while()) throw new GaveUp('gave up');
      try {
        return await attempt();
      } catch (error) {
        // A protocol error is the server's answer, not a lost server: retrying elsewhere would not change it.
        if (error instanceof ProtocolError && error.code !== 'INTERNAL') throw error;
        // A server failing the same request again and again is not coming back for it.
        if (error instanceof ProtocolError && ++internal >= MAX_INTERNAL_ANSWERS) throw error;
        if (policy.signal?.aborted) throw new GaveUp('abandoned');
        const server = this.servers[this.current]!;
        this.current = (this.current + 1) % this.servers.length;
        const wait = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(failures, 10)) * (0.5 + Math.random() / 2);
        if (failures === 0 || failures % 10 === 0) this.log.warn(`server ${server} unreachable (${describe(error)}); retrying on ${this.servers[this.current]} in ${Math.round(wait)} ms`);
        await sleep(wait, policy);
      }
    }
  }
}

async function readAnswer<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    throw new Error(`server answered ${res.status} with a body that is not JSON`);
  }
  if (res.ok) return body as T;
  const error = (body as Partial<ProtocolErrorBody> | null)?.error;
  if (isProtocolErrorCode(error?.code)) throw new ProtocolError(error.code, error.message ?? '');
  throw new Error(`server answered ${res.status}`);
}

/** Sleeps, waking early (every 100 ms check) when the policy no longer holds. */
async function sleep(ms: number, policy: RetryPolicy): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && policy.while()) await new Promise((resolve) => setTimeout(resolve, Math.min(100, until - Date.now())));
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause?.code;
  return cause ?? (error instanceof Error ? error.message : String(error));
}
