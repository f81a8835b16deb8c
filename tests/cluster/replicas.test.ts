import type { ChildServer, ChildWorker } from '../support/child';
import { ATTEMPT_METRIC } from '../support/cluster-plugins';
import { Cluster, jobOf, jobWhen, queueTraining, series, steps, type ClusterJob } from '../support/cluster';
import { seedTinySearch } from '../support/fixtures';
import type { Subscription } from '../support/server';

interface JobEvent {
  jobUpdated: { id: string; state: string; attempts: number };
}

/**
 * Two replicas over one PostgreSQL database and three workers: one reports through replica A,
 * two through replica B. The tests share the cluster and run in order.
 */
describe('two replicas and three workers', () => {
  const JOBS = 6;
  const STEPS = 10;
  let cluster: Cluster;
  let a: ChildServer;
  let b: ChildServer;
  let onA: ChildWorker;
  let onB: ChildWorker[];
  let seed: { spaceId: string; datasetId: string; projectId: string };
  let subscriberOnA: Subscription<JobEvent>;
  let finished: ClusterJob[] = [];

  beforeAll(async () => {
    cluster = await Cluster.create('postgresql');
    a = await cluster.replica();
    b = await cluster.replica();
    onA = await cluster.worker([a], { plugins: ['steps'], stepMs: 100 });
    onB = [await cluster.worker([b], { plugins: ['steps'], stepMs: 100 }), await cluster.worker([b], { plugins: ['steps'], stepMs: 100 })];
    seed = await seedTinySearch(a, 'replicas');
    subscriberOnA = a.subscribe<JobEvent>(`subscription($p: ID!) { jobUpdated(projectId: $p) { id state attempts } }`, { p: seed.projectId });
    await subscriberOnA.ready;
  });

  afterAll(async () => {
    subscriberOnA?.close();
    await cluster.close();
  });

  it('runs each of six jobs queued through both replicas exactly once', async () => {
    const queued: ClusterJob[] = [];
    for (let i = 0; i < JOBS; i++) queued.push(await queueTraining(i % 2 ? b : a, seed.spaceId, seed.datasetId, `sn-${i}`, STEPS));
    finished = await Promise.all(queued.map((job, i) => jobWhen(i % 2 ? a : b, job.id, (j) => j.state === 'SUCCEEDED', 120_000)));

    const workerIds = [onA.workerId, ...onB.map((w) => w.workerId)];
    for (const job of finished) {
      expect(job.attempts).toBe(1);
      expect(job.attemptHistory).toHaveLength(1);
      expect(job.attemptHistory[0]).toMatchObject({ attempt: 1, outcome: 'SUCCEEDED' });
      expect(workerIds).toContain(job.attemptHistory[0]!.workerId);
      expect(job.result).toEqual({ steps: STEPS, resumedFromStep: 0, attempt: 1 });
      expect((await series(b, job.payload.runId, ATTEMPT_METRIC)).map((p) => p.step)).toEqual(steps(STEPS));
    }
    // Both replicas handed out work: some jobs were claimed through B.
    expect(finished.some((job) => job.attemptHistory[0]!.workerId !== onA.workerId)).toBe(true);
  });

  it('a jobUpdated subscriber on A sees every state change of jobs whose workers report through B', async () => {
    const throughB = finished.filter((job) => job.attemptHistory[0]!.workerId !== onA.workerId);
    expect(throughB.length).toBeGreaterThan(0);
    for (const job of throughB) {
      await subscriberOnA.until((e) => e.jobUpdated.id === job.id && e.jobUpdated.state === 'SUCCEEDED', 10_000);
      const states = subscriberOnA.all().filter((e) => e.jobUpdated.id === job.id).map((e) => e.jobUpdated.state);
      expect(states[0]).toBe('QUEUED');
      expect(states).toContain('RUNNING');
      expect(states.filter((s) => s === 'SUCCEEDED')).toHaveLength(1);
      expect(states.at(-1)).toBe('SUCCEEDED');
    }
  });

  it('cancelJob sent to B stops a job running on a worker attached to A', async () => {
    // Only A's worker is left to claim it.
    await Promise.all(onB.map((w) => w.stop()));
    const queued = await queueTraining(b, seed.spaceId, seed.datasetId, 'sn-cancel', 1_000);
    await jobWhen(a, queued.id, (j) => j.state === 'RUNNING' && j.workerId === onA.workerId && j.progress > 0);
    const { cancelJob } = await b.gql(`mutation($id: ID!) { cancelJob(id: $id) { state cancelRequested } }`, { id: queued.id });
    expect(cancelJob).toEqual({ state: 'RUNNING', cancelRequested: true });

    const cancelled = await jobWhen(b, queued.id, (j) => j.state === 'CANCELLED');
    expect(cancelled.attemptHistory.map((x) => [x.attempt, x.workerId, x.outcome])).toEqual([[1, onA.workerId, 'CANCELLED']]);
    // The executor stopped: nothing more is stored once the job is cancelled.
    const stored = (await series(a, queued.payload.runId, ATTEMPT_METRIC)).length;
    expect(stored).toBeLessThan(1_000);
    // The worker is free again, and takes the next job.
    const next = await queueTraining(a, seed.spaceId, seed.datasetId, 'sn-after-cancel', 3);
    const done = await jobWhen(a, next.id, (j) => j.state === 'SUCCEEDED');
    expect(done.attemptHistory[0]!.workerId).toBe(onA.workerId);
    expect((await series(a, queued.payload.runId, ATTEMPT_METRIC)).length).toBe(stored);
    expect((await jobOf(a, queued.id)).state).toBe('CANCELLED');
  });
});
