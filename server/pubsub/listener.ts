import { Client, type ClientConfig, type Notification } from 'pg';
import type { Logger } from '../../executors/contract';
import { Backoff, errorMessage, pause } from './backoff';
import { EVENT_CHANNEL, lastEventSeq, readEventsAfter, type LoggedEvent } from './event-log';

/** Rows read per query, so a long backlog reaches subscribers in slices, not one burst. */
const PAGE = 200;

export interface LogListenerOptions {
  readonly connection: ClientConfig;
  readonly log: Logger;
  /** Called once per event, in log order. */
  readonly deliver: (event: LoggedEvent) => void;
  /**
   * Reads the log this often even without a notification: a safety net for a lost notification,
   * and a query that surfaces a connection that died silently.
   */
  readonly pollMs: number;
  /** How long events stay in the log; a longer outage may have lost some, which is worth a warning. */
  readonly retentionMs: number;
}

/**
 * Follows the event log on one dedicated connection: LISTEN for a wake-up, then read every row
 * after the cursor. The cursor is the last sequence number delivered, so a row is delivered
 * once, and since reading is what delivers (the notification only says "look"), nothing is lost
 * while the connection is down: after a reconnect the first read picks up where the cursor is.
 */
export class LogListener {
  private client: Client | null = null;
  private cursor: bigint | null = null;
  private reading: Promise<void> | null = null;
  private readAgain = false;
  private reconnecting: Promise<void> | null = null;
  private lostAt = 0;
  private pollTimer: NodeJS.Timeout | null = null;
  private readonly closing = new AbortController();
  private readonly backoff = new Backoff(100, 10_000);

  constructor(private readonly options: LogListenerOptions) {}

  /** Connects for the first time; fails (rather than retrying) so a misconfigured server stops. */
  async start(): Promise<void> {
    await this.connect();
    this.pollTimer = setInterval(() => this.requestRead(), this.options.pollMs);
  }

  async close(): Promise<void> {
    this.closing.abort();
    if (this.pollTimer) clearInterval(this.pollTimer);
    await this.reconnecting;
    await this.reading;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client(this.options.connection);
    // Attached before connecting: an 'error' without a listener would crash the process.
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection closed')));
    client.on('notification', (notification) => this.notified(notification));
    try {
      await client.connect();
      // LISTEN before reading the cursor or the backlog, so an event committed in between
      // still wakes a read.
      await client.query(`LISTEN ${EVENT_CHANNEL}`);
      this.cursor ??= await lastEventSeq(client);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.client = client;
    this.requestRead();
  }

  private notified(notification: Notification): void {
    const seq = /^\d+$/.test(notification.payload ?? '') ? BigInt(notification.payload!) : null;
    // Several notifications often arrive for rows one read already delivered.
    if (seq !== null && this.cursor !== null && seq <= this.cursor) return;
    this.requestRead();
  }

  /** One read at a time; a request during a read makes it read once more when it is done. */
  private requestRead(): void {
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = this.readLoop();
  }

  private async readLoop(): Promise<void> {
    try {
      do {
        this.readAgain = false;
        const client = this.client;
        if (!client || this.closing.signal.aborted) return;
        try {
          await this.readBacklog(client);
        } catch (error) {
          this.lost(client, error);
          return;
        }
      } while (this.readAgain);
    } finally {
      // In the same tick as the last check of readAgain, so no request falls between the two.
      this.reading = null;
    }
  }

  private async readBacklog(client: Client): Promise<void> {
    for (;;) {
      const events = await readEventsAfter(client, this.cursor!, PAGE);
      for (const event of events) {
        this.cursor = event.seq;
        try {
          this.options.deliver(event);
        } catch (error) {
          // The cursor has moved on: one undeliverable event must not stall all that follow it.
          this.options.log.warn(`event bus: event ${event.seq} (${event.topic}) could not be delivered: ${errorMessage(error)}`);
        }
      }
      if (events.length < PAGE) return;
    }
  }

  private lost(client: Client, error: unknown): void {
    if (client !== this.client || this.closing.signal.aborted) return;
    this.client = null;
    this.lostAt = Date.now();
    this.options.log.warn(`event bus: listening connection lost, reconnecting: ${errorMessage(error)}`);
    client.end().catch(() => undefined);
    this.reconnecting ??= this.reconnect();
  }

  private async reconnect(): Promise<void> {
    try {
      while (!this.closing.signal.aborted) {
        await pause(this.backoff.next(), this.closing.signal);
        if (this.closing.signal.aborted) return;
        try {
          await this.connect();
        } catch (error) {
          this.options.log.warn(`event bus: reconnecting failed: ${errorMessage(error)}`);
          continue;
        }
        // Lost again before this loop resumed: lost() saw a reconnect under way and left it to us.
        if (this.client === null) continue;
        this.backoff.reset();
        const downMs = Date.now() - this.lostAt;
        this.options.log.info(`event bus: listening again after ${downMs} ms`);
        if (downMs > this.options.retentionMs) {
          this.options.log.warn(
            `event bus: the connection was down longer than events are kept (${this.options.retentionMs} ms); some may have been missed`,
          );
        }
        return;
      }
    } finally {
      this.reconnecting = null;
    }
  }
}
