import type { Logger } from '../contract';
import type { FinishResponse, JobUpdate, Lease, Outcome } from '../protocol';
import { ProtocolError } from '../protocol-error';
import { GaveUp, type ServerClient } from './server-client';

/** The job's lease moved on (expired, or the server says another attempt holds it): write nothing more. */
export class LeaseLost extends Error {
  constructor(jobId: string) {
    super(`job ${jobId}: this worker no longer holds its lease`);
    this.name = 'LeaseLost';
  }
}

/** Updates wait at most this long to be sent with others. */
const BATCH_MS = 200;
/** A buffer this long is sent at once, and the plugin waits for it (backpressure). */
const BATCH_MAX = 2_000;

/**
 * A job this worker holds: its lease, and the ordered stream of updates it sends under that lease,
 * batched, in the order the plugin produced them, and retried (across replicas) until the lease
 * runs out.
 */
export class ActiveJob {
  readonly controller = new AbortController();
  private pending: JobUpdate[] = [];
  private sending: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private lost = false;
  private refused: Error | null = null;
  private soon: Promise<void> | null = null;

  constructor(
    private lease: Lease,
    private readonly client: ServerClient,
    private readonly log: Logger,
  ) {}

  get jobId(): string {
    return this.lease.jobId;
  }

  get attempt(): number {
    return this.lease.attempt;
  }

  get token(): string {
    return this.lease.token;
  }

  get isLost(): boolean {
    return this.lost || Date.now() > Date.parse(this.lease.expiresAt);
  }

  /** A heartbeat moved the lease on. */
  extend(expiresAt: string): void {
    this.lease = { ...this.lease, expiresAt };
  }

  markLost(): void {
    if (this.lost) return;
    this.lost = true;
    this.pending = [];
    this.controller.abort(new LeaseLost(this.jobId));
  }

  /**
   * Queues an update. Metrics and progress resolve at once and wait at most BATCH_MS to be sent.
   * Saved state and other events resolve once the server has stored them; they are sent together
   * with whatever the plugin queued in the same turn, in one request and so in one transaction
   * (a step and the state that resumes after it, pushed together, are never split by a crash).
   * A batch the server refused fails the next update, so the plugin learns of it.
   */
  push(update: JobUpdate): Promise<void> {
    if (this.lost) return Promise.reject(new LeaseLost(this.jobId));
    if (this.refused) return Promise.reject(this.refused);
    this.pending.push(update);
    if (this.pending.length >= BATCH_MAX) return this.flush();
    if (update.type === 'progress' || (update.type === 'event' && update.event.type === 'metrics')) {
      this.timer ??= setTimeout(() => void this.flush().catch(() => undefined), BATCH_MS);
      return Promise.resolve();
    }
    this.soon ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.soon = null;
      return this.flush();
    });
    return this.soon;
  }

  /** Sends everything queued so far, after whatever is already on its way. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    const send = this.sending.then(() => (batch.length > 0 ? this.send(batch) : undefined));
    this.sending = send.catch(() => undefined);
    return send;
  }

  /**
   * Flushes, then reports how the job ended; a lease lost meanwhile means nothing is written. With
   * `claimNext`, the answer carries the worker's next job, if one was waiting.
   */
  async finish(outcome: Outcome, claimNext: { workerId: string } | null): Promise<FinishResponse['next']> {
    await this.flush();
    const answer = await this.call<FinishResponse>('finish', { lease: this.leaseBody(), outcome, ...(claimNext && { claimNext }) });
    return answer.next ?? null;
  }

  private async send(updates: JobUpdate[]): Promise<void> {
    try {
      await this.call<unknown>('updates', { lease: this.leaseBody(), updates });
    } catch (error) {
      if (!(error instanceof LeaseLost)) this.refused ??= error as Error;
      throw error;
    }
  }

  private async call<T>(route: 'updates' | 'finish', body: unknown): Promise<T> {
    try {
      return await this.client.post<T>(`/jobs/${this.jobId}/${route}`, body, { while: () => !this.isLost, timeoutMs: 60_000 });
    } catch (error) {
      if (error instanceof GaveUp || (error instanceof ProtocolError && error.code === 'LEASE_LOST')) {
        this.log.warn(`[job ${this.jobId}] lease lost; its ${route} were not written`);
        this.markLost();
        throw new LeaseLost(this.jobId);
      }
      throw error;
    }
  }

  private leaseBody(): { attempt: number; token: string } {
    return { attempt: this.lease.attempt, token: this.lease.token };
  }
}
