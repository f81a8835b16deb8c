import { ATTEMPT_METRIC } from '../support/cluster-plugins';
import { Cluster, jobWhen, queueTraining, series, steps } from '../support/cluster';
import { seedTinySearch } from '../support/fixtures';
import { eventually } from '../support/server';

describe('a worker frozen (SIGSTOP) past its lease', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.create('postgresql');
  });

  afterAll(async () => {
    await cluster.close();
  });

  it('writes nothing once another worker holds the job: the job finishes once, with the second attempt\'s result', async () => {
    const STEPS = 40;
    const replica = await cluster.replica();
    const frozen = await cluster.worker([replica], { plugins: ['steps'], stepMs: 100 });
    const { spaceId, datasetId, projectId } = await seedTinySearch(replica, 'sigstop');
    const updates = replica.subscribe<{ jobUpdated: { id: string; state: string; attempts: number } }>(
      `subscription($p: ID!) { jobUpdated(projectId: $p) { id state attempts } }`,
      { p: projectId },
    );
    await updates.ready;
    const queued = await queueTraining(replica, spaceId, datasetId, 'sn', STEPS);
    await jobWhen(replica, queued.id, (j) => j.state === 'RUNNING' && j.workerId === frozen.workerId && j.progress >= 3 / STEPS);
    frozen.signal('SIGSTOP');

    const successor = await cluster.worker([replica], { plugins: ['steps'], stepMs: 100 });
    await jobWhen(replica, queued.id, (j) => j.attempts === 2 && j.workerId === successor.workerId);
    // The successor has stored a step of its own before the frozen worker wakes up.
    await eventually(async () => ((await series(replica, queued.payload.runId, ATTEMPT_METRIC)).some((p) => p.value === 2) ? true : undefined));
    frozen.signal('SIGCONT');

    const done = await jobWhen(replica, queued.id, (j) => j.state === 'SUCCEEDED');
    await updates.until((e) => e.jobUpdated.id === queued.id && e.jobUpdated.state === 'SUCCEEDED');
    // The woken worker heartbeats again (it was offline while frozen), so it has had its say.
    await eventually(async () => {
      const { workers } = await replica.gql(`{ workers(online: true) { id } }`);
      return (workers as { id: string }[]).find((w) => w.id === frozen.workerId);
    });

    expect(done.attemptHistory.map((a) => [a.attempt, a.workerId, a.outcome])).toEqual([
      [1, frozen.workerId, 'EXPIRED'],
      [2, successor.workerId, 'SUCCEEDED'],
    ]);
    expect(done.result).toEqual({ steps: STEPS, resumedFromStep: expect.any(Number), attempt: 2 });
    expect(done.result.resumedFromStep).toBeGreaterThanOrEqual(3);
    const points = await series(replica, queued.payload.runId, ATTEMPT_METRIC);
    expect(points.map((p) => p.step)).toEqual(steps(STEPS));
    // Every step after the successor's resume point is the successor's: nothing the frozen worker
    // tried to write after waking landed.
    expect(points.filter((p) => p.step > done.result.resumedFromStep).every((p) => p.value === 2)).toBe(true);
    const finished = updates.all().filter((e) => e.jobUpdated.id === queued.id && e.jobUpdated.state === 'SUCCEEDED');
    expect(finished).toHaveLength(1);
    updates.close();
  });
});
