import type { Pool } from 'pg';
import type { Logger } from '../../executors/contract';
import { errorMessage } from './backoff';
import { pruneEvents } from './event-log';

export interface PrunerOptions {
  readonly retentionMs: number;
  /** Mean time between attempts; each wait is drawn from half to one and a half times this. */
  readonly everyMs: number;
  readonly log: Logger;
}

/**
 * Keeps the event log short. Every replica runs one; the jittered waits spread their attempts and
 * the log's try-lock lets only one of them delete at a time.
 */
export class Pruner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly pool: Pool,
    private readonly options: PrunerOptions,
  ) {}

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    const wait = this.options.everyMs * (0.5 + Math.random());
    this.timer = setTimeout(() => {
      this.running = this.prune().finally(() => {
        this.running = null;
        this.schedule();
      });
    }, wait);
  }

  private async prune(): Promise<void> {
    try {
      await pruneEvents(this.pool, this.options.retentionMs);
    } catch (error) {
      // The next round tries again; old rows cost space, not correctness.
      this.options.log.warn(`event bus: pruning old events failed: ${errorMessage(error)}`);
    }
  }
}
