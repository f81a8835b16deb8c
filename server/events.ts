import { randomUUID } from 'node:crypto';
import { createPubSub, type PubSub, type PubSubEventTarget } from '@graphql-yoga/subscription';
import type { EntityManager } from '@mikro-orm/knex';
import { transactionQuery } from './db/transaction-client';
import { appendEventsWith } from './pubsub/event-log';
import type { Logger, MetricSample } from '../executors/contract';
import type { JobView } from './jobs/job-view';
import type { RegistrationProgress } from './services/dataset-service';
import { createPostgresEventTarget } from './pubsub/postgres-event-target';

/** A step of a slimming trajectory as subscribers receive it. */
export interface SlimmingStepEvent {
  readonly trajectoryId: string;
  readonly stepId: string;
}

export interface TrainingProgressEvent {
  readonly runId: string;
  readonly points: readonly MetricSample[];
}

type EventTopics = {
  JOB_UPDATED: [key: string, payload: JobView];
  TRAINING_PROGRESS: [runId: string, payload: TrainingProgressEvent];
  SLIMMING_PROGRESS: [trajectoryId: string, payload: SlimmingStepEvent];
  /** Registration of a dataset folder moving on (keyed by project): progress only, nothing stored. */
  DATASET_REGISTRATION: [projectId: string, payload: RegistrationProgress];
  /** Work may be claimable: a job was queued or requeued. Wakes long-polling claims. */
  WORK: [payload: { readonly jobId: string }];
};

/**
 * Pub/sub. Each topic is keyed (by job, project, run or trajectory id) so a subscriber only
 * receives what it asked for. Payloads are plain data, so they can cross server replicas as JSON.
 */
export type EventBus = PubSub<EventTopics>;

/** A keyed event, as a transaction collects it to publish once it commits. */
export interface BusEvent {
  readonly topic: 'JOB_UPDATED' | 'TRAINING_PROGRESS' | 'SLIMMING_PROGRESS';
  readonly key: string;
  readonly payload: unknown;
}

/**
 * How a transaction's events reach subscribers. `stage` runs inside the transaction: across
 * replicas it writes them to the event log there (so they exist exactly when the rows they
 * describe commit, and a replica killed right after its commit loses nothing); in process it
 * keeps them. `stage` answers what is left to publish once the transaction has committed.
 */
export interface EventOutbox {
  stage(em: EntityManager, events: readonly BusEvent[]): Promise<readonly BusEvent[]>;
}

/** The in-process bus: one server, or tests. */
export function createEventBus(): EventBus {
  return createPubSub<EventTopics>();
}

/** In process, events are published after the commit. */
export const IN_PROCESS_OUTBOX: EventOutbox = { stage: async (_em, events) => events };

export function publishEvents(bus: EventBus, events: readonly BusEvent[]): void {
  for (const { topic, key, payload } of events) (bus.publish as (topic: string, key: string, payload: unknown) => void)(topic, key, payload);
}

export interface ClusterEventBusOptions {
  readonly postgresUrl: string;
  readonly log: Logger;
  /** Names this replica's connections in pg_stat_activity, e.g. 'slimlab@host-1'. */
  readonly applicationName?: string;
  /** How long events stay in PostgreSQL: the longest outage a replica rides out without loss (5 minutes). */
  readonly retentionMs?: number;
  /** Mean time between a replica's attempts to delete expired events (1 minute). */
  readonly pruneEveryMs?: number;
}

export interface ClusterEventBus {
  readonly bus: EventBus;
  /** Writes a transaction's events into the log in that transaction. */
  readonly outbox: EventOutbox;
  /** Writes what is still queued, then closes the bus's connections and timers. */
  close(): Promise<void>;
}

/**
 * The bus for server replicas sharing one PostgreSQL database: a subscriber on any replica
 * receives every event published on any replica, once, in one cluster-wide order, also across a
 * reconnect of its replica's listening connection (see server/pubsub/). `publish` stays
 * synchronous; errors are retried and logged. Resolves once the bus is listening; rejects when
 * PostgreSQL cannot be reached.
 */
export async function createClusterEventBus(options: ClusterEventBusOptions): Promise<ClusterEventBus> {
  const { target, close } = await createPostgresEventTarget({ ...options, revive: reviveDates });
  // The target carries whatever createPubSub dispatches; the topic map above is its contract.
  const eventTarget = target as PubSubEventTarget<EventTopics>;
  const outbox: EventOutbox = {
    async stage(em, events) {
      // Each transaction is its own origin: its rows are numbered 0, 1, … under it.
      const pending = events.map((e, originSeq) => ({ originSeq, topic: `${e.topic}:${e.key}`, json: JSON.stringify(e.payload ?? null) }));
      await appendEventsWith(transactionQuery(em), randomUUID(), pending);
      return [];
    },
  };
  return { bus: createPubSub<EventTopics>({ eventTarget }), outbox, close };
}

type DateFields<T> = { [K in keyof T]-?: T[K] extends Date | null ? K : never }[keyof T];

/**
 * JSON turns a Date into an ISO string. Listing every Date field of JobView in a Record makes
 * a new one a compile error here until it is revived too.
 */
const JOB_DATE_FIELDS: Record<DateFields<JobView>, true> = {
  createdAt: true,
  startedAt: true,
  finishedAt: true,
  heartbeatAt: true,
  leaseExpiresAt: true,
};

/** Payloads come back from the cluster bus as JSON; give them back the Dates they were published with. */
function reviveDates(topic: string, payload: unknown): unknown {
  // createPubSub names a keyed topic "ROUTING_KEY:id".
  if (topic.split(':', 1)[0] !== 'JOB_UPDATED') return payload;
  const job = payload as Record<string, unknown>;
  for (const field of Object.keys(JOB_DATE_FIELDS)) {
    const value = job[field];
    if (typeof value === 'string') job[field] = new Date(value);
  }
  return job;
}

/** The key every job change is published under. */
export const ALL_JOBS = '*';

/**
 * A job change is published once, to the all-jobs key; subscriptions to one job or one project
 * filter it (server/resolvers/job-resolver.ts), so across replicas it is one event, not three.
 */
export function jobEvent(job: JobView): BusEvent {
  return { topic: 'JOB_UPDATED', key: ALL_JOBS, payload: job };
}

export function publishJob(bus: EventBus, job: JobView): void {
  publishEvents(bus, [jobEvent(job)]);
}
