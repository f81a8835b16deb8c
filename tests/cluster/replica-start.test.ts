import { ATTEMPT_METRIC } from '../support/cluster-plugins';
import { Cluster, jobOf, jobWhen, queueTraining, series, steps } from '../support/cluster';
import { seedTinySearch } from '../support/fixtures';

describe('a replica that starts while another runs a job', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.create('postgresql');
  });

  afterAll(async () => {
    await cluster.close();
  });

  it('leaves the job alone: it keeps attempt 1 and finishes once', async () => {
    // Long enough that the job is still running after the second replica has started and reaped.
    const STEPS = 100;
    const first = await cluster.replica();
    const worker = await cluster.worker([first], { plugins: ['steps'], stepMs: 150 });
    const { spaceId, datasetId } = await seedTinySearch(first, 'replica-start');
    const queued = await queueTraining(first, spaceId, datasetId, 'sn', STEPS);
    await jobWhen(first, queued.id, (j) => j.state === 'RUNNING' && j.progress > 0);

    const second = await cluster.replica();
    const seen = await jobOf(second, queued.id);
    expect([seen.state, seen.attempts, seen.workerId]).toEqual(['RUNNING', 1, worker.workerId]);
    // A few more steps pass under the new replica's reaper before the job ends.
    await jobWhen(second, queued.id, (j) => j.progress >= seen.progress + 5 / STEPS);

    const done = await jobWhen(second, queued.id, (j) => j.state === 'SUCCEEDED', 120_000);
    expect(done.attempts).toBe(1);
    expect(done.attemptHistory.map((a) => [a.attempt, a.workerId, a.outcome])).toEqual([[1, worker.workerId, 'SUCCEEDED']]);
    expect(done.result).toEqual({ steps: STEPS, resumedFromStep: 0, attempt: 1 });
    const points = await series(first, queued.payload.runId, ATTEMPT_METRIC);
    expect(points.map((p) => p.step)).toEqual(steps(STEPS));
    expect(points.every((p) => p.value === 1)).toBe(true);
  });
});
