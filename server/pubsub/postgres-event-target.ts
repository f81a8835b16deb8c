import { Pool, type ClientConfig } from 'pg';
import type { Logger } from '../../executors/contract';
import { errorMessage } from './backoff';
import { ensureEventLog, type LoggedEvent } from './event-log';
import { LogListener } from './listener';
import { EventPublisher } from './publisher';
import { Pruner } from './pruner';

export interface PostgresEventTargetOptions {
  readonly postgresUrl: string;
  readonly log: Logger;
  /** Names this replica's connections in pg_stat_activity. */
  readonly applicationName?: string;
  /** Turns a payload parsed from JSON back into what was published (e.g. Date fields). */
  readonly revive?: (topic: string, payload: unknown) => unknown;
  /** How long events stay in the log; also how long a replica may be cut off without losing any. */
  readonly retentionMs?: number;
  readonly pruneEveryMs?: number;
  readonly pollMs?: number;
}

export interface PostgresEventTarget {
  /** Give to `createPubSub({ eventTarget })`. */
  readonly target: EventTarget;
  /** Writes what is still queued, then closes connections and timers. */
  close(): Promise<void>;
}

/** An Event that carries a payload where `createPubSub`'s listeners look for it. */
class PayloadEvent extends Event {
  constructor(
    type: string,
    readonly detail: unknown,
  ) {
    super(type);
  }
}

/**
 * The pub/sub's EventTarget across replicas. Dispatching an event publishes it to the log in
 * PostgreSQL; listeners hear it only when it comes back from the log, on this replica as on every
 * other. One path for all events means one order: the log's.
 */
class LogEventTarget extends EventTarget {
  constructor(private readonly publisher: EventPublisher) {
    super();
  }

  override dispatchEvent(event: Event): boolean {
    this.publisher.publish(event.type, (event as Event & { detail?: unknown }).detail);
    return true;
  }

  deliver(topic: string, payload: unknown): void {
    super.dispatchEvent(new PayloadEvent(topic, payload));
  }
}

export async function createPostgresEventTarget(options: PostgresEventTargetOptions): Promise<PostgresEventTarget> {
  const { log, revive = (_topic, payload) => payload } = options;
  const retentionMs = options.retentionMs ?? 5 * 60_000;
  const connection: ClientConfig = {
    connectionString: options.postgresUrl,
    application_name: options.applicationName ?? 'slimlab',
    connectionTimeoutMillis: 10_000,
    // A connection whose peer vanished without a word (a cut network) is found by keepalives.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
  // Publishing and pruning; two so a prune never holds up a publish.
  const pool = new Pool({ ...connection, max: 2 });
  // An idle pooled connection that dies is dropped by the pool; the next query opens another.
  pool.on('error', (error) => log.warn(`event bus: idle connection lost: ${errorMessage(error)}`));

  const publisher = new EventPublisher(pool, log);
  const target = new LogEventTarget(publisher);
  const listener = new LogListener({
    connection: { ...connection, application_name: `${connection.application_name}:listen` },
    log,
    retentionMs,
    pollMs: options.pollMs ?? 10_000,
    deliver: (event: LoggedEvent) => target.deliver(event.topic, revive(event.topic, JSON.parse(event.json))),
  });
  const pruner = new Pruner(pool, { retentionMs, everyMs: options.pruneEveryMs ?? 60_000, log });

  try {
    await ensureEventLog(pool);
    await listener.start();
  } catch (error) {
    await pool.end();
    throw new Error(`event bus: cannot use PostgreSQL for events: ${errorMessage(error)}`, { cause: error });
  }
  pruner.start();

  return {
    target,
    async close() {
      await pruner.stop();
      await publisher.close();
      await listener.close();
      await pool.end();
    },
  };
}
