import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Logger } from '../../executors/contract';
import { Backoff, errorMessage, pause } from './backoff';
import { appendEvents, type PendingEvent } from './event-log';

/** Bounds one INSERT's size after a backlog built up while PostgreSQL was away. */
const MAX_BATCH = 500;

/**
 * Writes published events to the log in the order they were published. `publish` stays
 * synchronous, as callers of the in-process bus expect: events queue here and one writer drains
 * them in batches, so order is kept without callers awaiting anything.
 *
 * A failed batch is retried as it was, with the same origin numbers, until it lands: when a
 * connection drops during COMMIT nobody knows whether it committed, and the log's unique
 * (origin, origin_seq) turns the retry of a batch that did into a no-op instead of a duplicate.
 */
export class EventPublisher {
  private readonly origin = randomUUID();
  private nextOriginSeq = 0;
  private readonly queue: PendingEvent[] = [];
  private draining: Promise<void> | null = null;
  private readonly closing = new AbortController();
  private readonly backoff = new Backoff(100, 10_000);

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
  ) {}

  publish(topic: string, payload: unknown): void {
    if (this.closing.signal.aborted) {
      this.log.warn(`event bus: "${topic}" published after close was dropped`);
      return;
    }
    // Serialised now, so a caller that mutates its object afterwards does not change the event.
    this.queue.push({ originSeq: this.nextOriginSeq++, topic, json: JSON.stringify(payload ?? null) });
    this.draining ??= this.drain();
  }

  /** Writes what is queued (one last attempt if PostgreSQL is failing), then stops. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.slice(0, MAX_BATCH);
        try {
          await appendEvents(this.pool, this.origin, batch);
          this.queue.splice(0, batch.length);
          this.backoff.reset();
        } catch (error) {
          if (this.closing.signal.aborted) {
            this.log.warn(`event bus: closing, ${this.queue.length} unpublished events dropped: ${errorMessage(error)}`);
            this.queue.length = 0;
            return;
          }
          const delay = this.backoff.next();
          this.log.warn(`event bus: publishing failed (${this.queue.length} events waiting), retrying in ${delay} ms: ${errorMessage(error)}`);
          await pause(delay, this.closing.signal);
        }
      }
    } finally {
      // Cleared in the same tick the queue is seen empty; clearing it a tick later would let a
      // publish in between find a drain that has already finished, and its event would sit.
      this.draining = null;
    }
  }
}
