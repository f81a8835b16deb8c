import type { EntityManager } from '@mikro-orm/knex';
import type { JobKind } from '../../executors/contract';
import { openDatabase, type Orm } from '../../server/db/orm';
import { Job, Project } from '../../server/entities';
import { PgBossQueue } from '../../server/jobs/pgboss-queue';
import type { QueueTransition } from '../../server/jobs/queue';
import { JobState } from '../../schema/enums';
import { scratchDatabase, type ScratchDatabase } from '../support/databases';

const DEVICE_A = 'a'.repeat(64);
const DEVICE_B = 'b'.repeat(64);

interface BossRow {
  name: string;
  state: string;
  retry_count: number;
  retry_limit: number;
}

describe('PgBossQueue on PostgreSQL', () => {
  let scratch: ScratchDatabase;
  let orm: Orm;
  let queue: PgBossQueue;
  let project: Project;
  const warnings: string[] = [];

  const tx = <T>(work: (em: EntityManager) => Promise<T>) => orm.em.fork().transactional((em) => work(em as EntityManager));

  const bossJob = async (id: string): Promise<BossRow | undefined> =>
    (await orm.em.getConnection().execute<BossRow[]>('select name, state, retry_count, retry_limit from pgboss.job where id = ?', [id]))[0];

  /** Creates and enqueues jobs, each in its own committed transaction, in the order given. */
  async function enqueue(...specs: { kind: JobKind; device?: string; maxAttempts?: number }[]): Promise<Job[]> {
    const jobs: Job[] = [];
    for (const spec of specs) {
      jobs.push(
        await tx(async (em) => {
          const job = em.create(Job, {
            project: em.getReference(Project, project.id),
            kind: spec.kind,
            payload: {},
            deviceFingerprint: spec.device ?? null,
            maxAttempts: spec.maxAttempts ?? 3,
          });
          await em.flush();
          await queue.enqueue(em, job);
          return job;
        }),
      );
    }
    return jobs;
  }

  /** What the ledger does to claim: reserve, then move the row QUEUED → RUNNING. */
  const claim = (kinds: JobKind[], devices: string[] = []) =>
    tx(async (em) => {
      const id = await queue.reserve(em, kinds, devices);
      if (id === null) return null;
      const job = await em.findOneOrFail(Job, id);
      expect(job.state).toBe(JobState.QUEUED);
      job.state = JobState.RUNNING;
      job.attempts += 1;
      return id;
    });

  /** What the ledger does on a transition: change the row, then settle in the same transaction. */
  const transition = (id: string, state: JobState, how: QueueTransition) =>
    tx(async (em) => {
      const job = await em.findOneOrFail(Job, id);
      job.state = state;
      await queue.settle(em, job, how);
      return job;
    });

  const queueRef = async (id: string) => (await orm.em.fork().findOneOrFail(Job, id)).queueRef!;

  beforeAll(async () => {
    scratch = await scratchDatabase('postgresql');
    if (scratch.target.kind !== 'postgresql') throw new Error('expected a PostgreSQL scratch database');
    ({ orm } = await openDatabase(scratch.target));
    queue = new PgBossQueue(scratch.target.url, { info: () => {}, warn: (message) => warnings.push(message) });
    await queue.start();
    project = await tx(async (em) => em.create(Project, { name: 'queue' }));
  });

  afterAll(async () => {
    await queue?.stop();
    await orm?.close();
    await scratch?.drop();
  });

  beforeEach(async () => {
    warnings.length = 0;
    const connection = orm.em.getConnection();
    await connection.execute('delete from pgboss.job');
    await connection.execute('delete from job');
  });

  it('queues a job only when the caller commits', async () => {
    const rolledBack = tx(async (em) => {
      const job = em.create(Job, { project: em.getReference(Project, project.id), kind: 'SLIM', payload: {} });
      await em.flush();
      await queue.enqueue(em, job);
      expect(job.queueRef).toMatch(/^[0-9a-f-]{36}$/);
      throw new Error('rolled back');
    });
    await expect(rolledBack).rejects.toThrow('rolled back');
    expect(await orm.em.getConnection().execute('select id from pgboss.job')).toEqual([]);
    expect(await claim(['SLIM'])).toBeNull();

    const [job] = await enqueue({ kind: 'SLIM' });
    expect(await bossJob(await queueRef(job.id))).toMatchObject({ name: 'slimlab-SLIM', state: 'created', retry_limit: 2 });
    expect(await claim(['SLIM'])).toBe(job.id);
    expect(await claim(['SLIM'])).toBeNull();
  });

  it('leaves a job reserved in a rolled-back claim reservable', async () => {
    const [job] = await enqueue({ kind: 'SLIM' });
    const crashed = tx(async (em) => {
      expect(await queue.reserve(em, ['SLIM'], [])).toBe(job.id);
      throw new Error('crashed before commit');
    });
    await expect(crashed).rejects.toThrow('crashed before commit');
    expect(await claim(['SLIM'])).toBe(job.id);
  });

  it('never hands one job to two concurrent claimers', async () => {
    const jobs = await enqueue({ kind: 'TRAIN_SUPERNET' }, { kind: 'TRAIN_SUPERNET' });
    let release!: () => void;
    const bothReserved = new Promise<void>((resolve) => (release = resolve));
    let reserved = 0;
    const concurrent = () =>
      tx(async (em) => {
        const id = await queue.reserve(em, ['TRAIN_SUPERNET'], []);
        if (++reserved === 2) release();
        await bothReserved; // both transactions are open at once
        return id;
      });
    const ids = await Promise.all([concurrent(), concurrent()]);
    expect(ids.sort()).toEqual(jobs.map((j) => j.id).sort());
  });

  it('reserves only the kinds asked for, oldest first across them', async () => {
    const [train, slim, evaluate] = await enqueue({ kind: 'TRAIN_SUPERNET' }, { kind: 'SLIM' }, { kind: 'EVALUATE' });
    expect(await claim(['EXPORT'])).toBeNull();
    expect(await claim(['EVALUATE', 'SLIM'])).toBe(slim.id);
    expect(await claim(['EVALUATE', 'SLIM'])).toBe(evaluate.id);
    expect(await claim(['SLIM', 'TRAIN_SUPERNET'])).toBe(train.id);
  });

  it('gives a device-bound job only to that device', async () => {
    const [bound] = await enqueue({ kind: 'PROFILE_LATENCY', device: DEVICE_A });
    expect(await bossJob(bound.queueRef!)).toMatchObject({ name: `slimlab-PROFILE_LATENCY-${DEVICE_A}` });
    expect(await claim(['PROFILE_LATENCY'])).toBeNull();
    expect(await claim(['PROFILE_LATENCY'], [DEVICE_B])).toBeNull();
    expect(await claim(['SLIM'], [DEVICE_A])).toBeNull();
    expect(await claim(['PROFILE_LATENCY'], [DEVICE_B, DEVICE_A])).toBe(bound.id);
  });

  it('requeues an expired job, counting the attempt in pg-boss', async () => {
    const [job] = await enqueue({ kind: 'SLIM' });
    await claim(['SLIM']);
    await transition(job.id, JobState.QUEUED, 'expired');
    expect(await bossJob(job.queueRef!)).toMatchObject({ state: 'retry', retry_count: 0 });
    expect(await claim(['SLIM'])).toBe(job.id);
    expect(await bossJob(job.queueRef!)).toMatchObject({ state: 'active', retry_count: 1 });
    expect(warnings).toEqual([]);
  });

  it('dead-letters an exhausted job and does not hand it out again', async () => {
    const [job] = await enqueue({ kind: 'SLIM', maxAttempts: 2 });
    await claim(['SLIM']);
    await transition(job.id, JobState.QUEUED, 'expired');
    await claim(['SLIM']);
    await transition(job.id, JobState.FAILED, 'exhausted');
    expect(await bossJob(job.queueRef!)).toMatchObject({ state: 'failed', retry_count: 1, retry_limit: 1 });
    const dead = await orm.em.getConnection().execute(`select data from pgboss.job where name = 'slimlab-dead-letter'`);
    expect(dead).toEqual([{ data: { jobId: job.id } }]);
    expect(await claim(['SLIM'])).toBeNull();
    expect(warnings).toEqual([]);
  });

  it.each([
    ['released', JobState.RUNNING],
    ['retried', JobState.FAILED],
  ] as const)('requeues a %s job as a fresh pg-boss job, with no attempt counted', async (how, from) => {
    const [job] = await enqueue({ kind: 'SLIM' });
    await claim(['SLIM']);
    if (from === JobState.FAILED) await transition(job.id, JobState.FAILED, 'failed');
    const requeued = await transition(job.id, JobState.QUEUED, how);
    expect(requeued.queueRef).not.toBe(job.queueRef);
    expect((await bossJob(job.queueRef!))?.state).toBe(from === JobState.FAILED ? 'completed' : 'cancelled');
    // The row has used one of its three attempts, so pg-boss may retry the fresh job once.
    expect(await bossJob(requeued.queueRef!)).toMatchObject({ state: 'created', retry_count: 0, retry_limit: 1 });
    expect(await claim(['SLIM'])).toBe(job.id);
    expect(warnings).toEqual([]);
  });

  it('ends succeeded and cancelled jobs', async () => {
    const [done, queued] = await enqueue({ kind: 'SLIM' }, { kind: 'SLIM' });
    expect(await claim(['SLIM'])).toBe(done.id);
    await transition(done.id, JobState.SUCCEEDED, 'succeeded');
    await transition(queued.id, JobState.CANCELLED, 'cancelled');
    expect((await bossJob(done.queueRef!))?.state).toBe('completed');
    expect((await bossJob(queued.queueRef!))?.state).toBe('cancelled');
    expect(await claim(['SLIM'])).toBeNull();
    expect(warnings).toEqual([]);
  });

  it('follows the row, with a warning, when pg-boss drifted', async () => {
    const [done, lost] = await enqueue({ kind: 'SLIM' }, { kind: 'EVALUATE' });
    await claim(['SLIM']);
    await transition(done.id, JobState.SUCCEEDED, 'succeeded');
    await expect(transition(done.id, JobState.SUCCEEDED, 'succeeded')).resolves.toBeDefined();
    expect(warnings).toEqual([expect.stringContaining(`of job ${done.id} is completed`)]);

    // pg-boss lost a running job; its lease expired, so the row says it waits again.
    await claim(['EVALUATE']);
    await orm.em.getConnection().execute('delete from pgboss.job where id = ?', [lost.queueRef]);
    const requeued = await transition(lost.id, JobState.QUEUED, 'expired');
    expect(warnings[1]).toContain(`of job ${lost.id} is gone`);
    expect(requeued.queueRef).not.toBe(lost.queueRef);
    expect(await claim(['EVALUATE'])).toBe(lost.id);
  });

  it('repairs a running job that pg-boss requeued behind the ledger', async () => {
    const [running, waiting] = await enqueue({ kind: 'SLIM' }, { kind: 'SLIM' });
    await claim(['SLIM']);
    // What pg-boss's expiry backstop does to a run that outlives it.
    await orm.em.getConnection().execute(`update pgboss.job set state = 'retry' where id = ?`, [running.queueRef]);
    expect(await claim(['SLIM'])).toBe(waiting.id);
    expect((await bossJob(running.queueRef!))?.state).toBe('active');
    expect(warnings).toEqual([expect.stringContaining(`requeued job ${running.id} while it runs`)]);
  });
});
