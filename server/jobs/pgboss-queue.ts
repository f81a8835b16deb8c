import type { EntityManager } from '@mikro-orm/knex';
import PgBoss from 'pg-boss';
import type { JobKind, Logger } from '../../executors/contract';
import { JobKind as JobKinds, JobState } from '../../schema/enums';
import type { Job } from '../entities';
import type { JobQueue, QueueTransition } from './queue';
import { transactionDb } from './pgboss-transaction';

type Db = ReturnType<typeof transactionDb>;
type BossJob = PgBoss.JobWithMetadata<Payload>;

interface Payload {
  jobId: string;
}

const SCHEMA = 'pgboss';
const DEAD_LETTER = 'slimlab-dead-letter';

/**
 * slimlab's leases (heartbeats, fencing tokens) decide whether a running job is alive; pg-boss
 * cannot see them. Its own expiry of active jobs is only a backstop for a pg-boss job nobody
 * settles any more, so it is as long as pg-boss allows (it refuses 24 hours or more): a run that
 * outlives it is requeued in pg-boss while its row is RUNNING, which `reserve` detects and undoes.
 */
const EXPIRY_BACKSTOP_SECONDS = 23 * 60 * 60;

/**
 * pg-boss's maintenance archives waiting jobs once they pass their retention; a slimlab job waits
 * as long as its row says QUEUED (for a device that is offline for weeks, say), so never.
 */
const RETENTION_DAYS = 100 * 365;

/** What every pg-boss job of ours carries; retries happen at once, as the ledger requeues. */
const SEND_OPTIONS = {
  retryDelay: 0,
  retryBackoff: false,
  expireInSeconds: EXPIRY_BACKSTOP_SECONDS,
  retentionDays: RETENTION_DAYS,
  deadLetter: DEAD_LETTER,
} as const;

const LIVE_STATES: readonly string[] = ['created', 'retry', 'active'];

/**
 * Oldest waiting pg-boss job across the allowed queues whose row is QUEUED and still points at
 * it; pg-boss's `fetch` reads a single queue. Oldest in pg-boss's own order (when it was queued,
 * so a released or retried job queues behind those waiting), the order `fetch` then takes within
 * that queue. Locks both rows, skipping any another transaction holds, so concurrent claimers
 * never wait on each other nor on a ledger changing that row.
 */
const PEEK_SQL = `
  SELECT b.name, b.id
  FROM ${SCHEMA}.job b
  JOIN job j ON j.id = (b.data->>'jobId')::uuid
  WHERE b.name = ANY($1::text[]) AND b.state < 'active' AND b.start_after < now()
    AND j.state = '${JobState.QUEUED}' AND j.queue_ref = b.id::text
  ORDER BY b.created_on, b.id
  LIMIT 1
  FOR UPDATE SKIP LOCKED`;

/** PEEK_SQL's order over every queue: the order pg-boss's `fetch` takes within each. */
const LINE_SQL = `
  SELECT j.id
  FROM ${SCHEMA}.job b
  JOIN job j ON j.id = (b.data->>'jobId')::uuid
  WHERE b.state < 'active' AND j.state = '${JobState.QUEUED}' AND j.queue_ref = b.id::text
  ORDER BY b.created_on, b.id`;

/**
 * The PostgreSQL queue: pg-boss, in the same database and the caller's transactions. One queue
 * per kind and one per (kind, device) route jobs to the executors that may run them. The `Job`
 * row decides; pg-boss mirrors it, and where the two drifted apart this follows the row and warns.
 */
export class PgBossQueue implements JobQueue {
  private readonly boss: PgBoss;
  private readonly queues = new Set<string>();

  constructor(connectionString: string, private readonly log: Logger) {
    this.boss = new PgBoss({
      connectionString,
      schema: SCHEMA,
      // Only start-up, queue creation and maintenance use pg-boss's own pool; jobs move on the caller's connections.
      max: 3,
      // No cron schedules: that would poll a queue of pg-boss's own every few seconds for nothing.
      schedule: false,
    });
    // Without a listener an 'error' event (a failed maintenance run) would crash the process.
    this.boss.on('error', (error) => this.log.warn(`pg-boss: ${error.message}`));
  }

  async start(): Promise<void> {
    await this.boss.start();
    await this.ensureQueue(DEAD_LETTER);
    for (const kind of Object.values(JobKinds)) await this.ensureQueue(queueName(kind, null));
  }

  async stop(): Promise<void> {
    await this.boss.stop({ graceful: true });
  }

  async enqueue(em: EntityManager, job: Job): Promise<void> {
    await this.send(transactionDb(em), job);
  }

  async lineOrder(em: EntityManager): Promise<string[]> {
    // Jobs queued in one transaction share pg-boss's created_on, and its own ids (random) order
    // them, not their rows: a place counted from the rows would be wrong for them.
    const { rows } = await transactionDb(em).executeSql(LINE_SQL, []);
    return (rows as { id: string }[]).map((row) => row.id);
  }

  async reserve(em: EntityManager, kinds: readonly JobKind[], devices: readonly string[]): Promise<string | null> {
    const names = kinds.flatMap((kind) => [queueName(kind, null), ...devices.map((device) => queueName(kind, device))]);
    if (names.length === 0) return null;
    const db = transactionDb(em);
    for (;;) {
      const { rows } = await db.executeSql(PEEK_SQL, [names]);
      const peeked = rows[0] as { name: string; id: string } | undefined;
      if (!peeked) return null;
      const [fetched] = await this.boss.fetch<Payload>(peeked.name, { db });
      // We hold the peeked job's lock, so the fetch finds at least that one; pg-boss swallows fetch errors.
      if (!fetched) throw new Error(`pg-boss fetched nothing from ${peeked.name} though job ${peeked.id} waits there; its SQL failed and the transaction is aborted`);
      if (fetched.id === peeked.id || (await this.isClaimable(db, fetched))) return fetched.data.jobId;
    }
  }

  async settle(em: EntityManager, job: Job, transition: QueueTransition): Promise<void> {
    const db = transactionDb(em);
    const name = queueName(job.kind, job.deviceFingerprint);
    // The common case first: one statement completes the active pg-boss job; only when it did not
    // (pg-boss drifted) is the job read to decide what to do.
    if ((transition === 'succeeded' || transition === 'failed') && job.queueRef) {
      const { affected } = (await this.boss.complete(name, job.queueRef, { state: job.state }, { db })) as unknown as { affected: number };
      if (affected === 1) return;
    }
    const current = job.queueRef ? await this.boss.getJobById<Payload>(name, job.queueRef, { db, includeArchive: false }) : null;
    const active = current?.state === 'active';
    switch (transition) {
      case 'succeeded':
      case 'failed':
        // pg-boss's `fail` would retry it; the row's state says how it ended.
        if (active) {
          await this.boss.complete(name, current.id, { state: job.state }, { db });
        } else {
          this.drifted(job, transition, current);
          await this.end(db, current);
        }
        return;
      case 'cancelled':
        if (current && isLive(current)) await this.boss.cancel(name, current.id, { db });
        else this.drifted(job, transition, current);
        return;
      case 'expired':
        // pg-boss counts the attempt and makes the job fetchable again (retryDelay is 0).
        if (active && hasRetries(current)) {
          await this.boss.fail(name, current.id, { reason: 'lease expired' }, { db });
          return;
        }
        this.drifted(job, transition, current);
        // Unless its own expiry already requeued it, a fresh pg-boss job gives the row's remaining attempts.
        if (!current || !isLive(current) || active) await this.replace(db, job, current);
        return;
      case 'exhausted':
        // Out of retries, pg-boss fails it for good and copies it to the dead-letter queue.
        if (active && !hasRetries(current)) {
          await this.boss.fail(name, current.id, { reason: 'no attempts left' }, { db });
          return;
        }
        this.drifted(job, transition, current);
        if (current && isLive(current)) {
          await this.end(db, current);
          await this.boss.send(DEAD_LETTER, { jobId: job.id } satisfies Payload, { retentionDays: RETENTION_DAYS, db });
        }
        return;
      case 'released':
      case 'retried':
        // A fresh pg-boss job, so that pg-boss counts no attempt: a released worker did not fail,
        // and a retried job gets the attempts its row now allows.
        if (transition === 'released' ? !active : current && isLive(current)) this.drifted(job, transition, current);
        await this.replace(db, job, current);
        return;
    }
  }

  private async send(db: Db, job: Job): Promise<void> {
    const name = queueName(job.kind, job.deviceFingerprint);
    await this.ensureQueue(name);
    // pg-boss retries `retryLimit` times after the first try; the row's attempts already used count.
    const retryLimit = Math.max(0, job.maxAttempts - job.attempts - 1);
    const id = await this.boss.send(name, { jobId: job.id } satisfies Payload, { ...SEND_OPTIONS, retryLimit, db });
    if (!id) throw new Error(`pg-boss did not queue job ${job.id} on ${name}`);
    // The caller's flush (em.transactional flushes before it commits) writes it with the row.
    job.queueRef = id;
  }

  private async replace(db: Db, job: Job, current: BossJob | null): Promise<void> {
    await this.end(db, current);
    await this.send(db, job);
  }

  /** Ends a pg-boss job that would otherwise still be fetched or expired. */
  private async end(db: Db, current: BossJob | null): Promise<void> {
    if (current && isLive(current)) await this.boss.cancel(current.name, current.id, { db });
  }

  /**
   * Whether a job pg-boss fetched instead of the peeked one (an older one in the same queue, that
   * the peek passed over) may be handed out. Otherwise it is one that drifted: left active if its
   * row is RUNNING (pg-boss's expiry requeued a live run), cancelled if its row moved on.
   */
  private async isClaimable(db: Db, fetched: PgBoss.Job<Payload>): Promise<boolean> {
    const { rows } = await db.executeSql('SELECT state, queue_ref FROM job WHERE id = $1', [fetched.data.jobId]);
    const row = rows[0] as { state: JobState; queue_ref: string | null } | undefined;
    const current = row?.queue_ref === fetched.id;
    if (current && row.state === JobState.QUEUED) return true;
    if (current && row.state === JobState.RUNNING) {
      this.log.warn(`pg-boss requeued job ${fetched.data.jobId} while it runs (its expiry backstop fired); marked active again`);
      return false;
    }
    this.log.warn(`pg-boss job ${fetched.id} is stale (job ${fetched.data.jobId} is ${row ? `${row.state} on ${row.queue_ref}` : 'gone'}); cancelled`);
    await this.boss.cancel(fetched.name, fetched.id, { db });
    return false;
  }

  private drifted(job: Job, transition: QueueTransition, current: BossJob | null): void {
    const seen = current ? `${current.state} (retry ${current.retryCount} of ${current.retryLimit})` : 'gone';
    this.log.warn(`pg-boss job ${job.queueRef ?? '(none)'} of job ${job.id} is ${seen} as the job is ${transition}; following the job`);
  }

  /** Queues are created on pg-boss's own connection: creating one twice is a no-op, and one left after a rollback is harmless. */
  private async ensureQueue(name: string): Promise<void> {
    if (this.queues.has(name)) return;
    await this.boss.createQueue(name, { name, policy: 'standard', ...(name === DEAD_LETTER ? {} : { deadLetter: DEAD_LETTER }) });
    this.queues.add(name);
  }
}

/** A device-bound job waits in its own queue, so that only that device's executor fetches it. */
function queueName(kind: JobKind, device: string | null): string {
  return device ? `slimlab-${kind}-${device}` : `slimlab-${kind}`;
}

function isLive(job: BossJob): boolean {
  return LIVE_STATES.includes(job.state);
}

function hasRetries(job: BossJob): boolean {
  return job.retryCount < job.retryLimit;
}
