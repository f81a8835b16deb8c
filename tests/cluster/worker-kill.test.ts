import { ATTEMPT_METRIC } from '../support/cluster-plugins';
import { Cluster, jobOf, jobWhen, queueTraining, series, steps } from '../support/cluster';
import { INTERRUPTIBLE_TRAINING, seedTinySearch } from '../support/fixtures';
import { eventually } from '../support/server';

describe('a worker SIGKILLed mid-run', () => {
  let cluster: Cluster;

  beforeEach(async () => {
    cluster = await Cluster.create('postgresql');
  });

  afterEach(async () => {
    await cluster.close();
  });

  it('loses its lease; another worker resumes the job from its last saved state, and every step is stored once', async () => {
    const STEPS = 30;
    const replica = await cluster.replica();
    const first = await cluster.worker([replica], { plugins: ['steps'], stepMs: 100 });
    const { spaceId, datasetId } = await seedTinySearch(replica, 'sigkill');
    const queued = await queueTraining(replica, spaceId, datasetId, 'sn', STEPS);
    await jobWhen(replica, queued.id, (j) => j.state === 'RUNNING' && j.progress >= 5 / STEPS);
    await first.kill();
    const savedAtKill = Math.round((await jobOf(replica, queued.id)).progress * STEPS);

    const second = await cluster.worker([replica], { plugins: ['steps'], stepMs: 100 });
    const done = await jobWhen(replica, queued.id, (j) => j.state === 'SUCCEEDED');

    expect(done.attempts).toBe(2);
    expect(done.attemptHistory.map((a) => [a.attempt, a.workerId, a.outcome])).toEqual([
      [1, first.workerId, 'EXPIRED'],
      [2, second.workerId, 'SUCCEEDED'],
    ]);
    // Progress is sent after the state it follows, so the saved state is at least as far.
    expect(done.result.resumedFromStep).toBeGreaterThanOrEqual(savedAtKill);
    expect(done.result.attempt).toBe(2);
    const points = await series(replica, queued.payload.runId, ATTEMPT_METRIC);
    expect(points.map((p) => p.step)).toEqual(steps(STEPS));
    // Steps the first attempt saved are not run again: the second attempt wrote only what came after.
    expect(points.filter((p) => p.value === 2).map((p) => p.step)).toEqual(steps(STEPS).filter((s) => s > done.result.resumedFromStep));
  });

  it('real tfjs trainer: resumes on another worker from the last checkpoint, with every step once', async () => {
    const { trainSize, stepsPerEpoch: STEPS_PER_EPOCH } = INTERRUPTIBLE_TRAINING;
    const EPOCHS = 4;
    const replica = await cluster.replica();
    const first = await cluster.worker([replica], { plugins: ['tfjs'] });
    const { spaceId, datasetId } = await seedTinySearch(replica, 'sigkill-tfjs', { trainSize });
    const queued = await queueTraining(replica, spaceId, datasetId, 'sn', EPOCHS, 32);
    const runId = queued.payload.runId;
    // Kill it once it has checkpointed an epoch and trained past it.
    const checkpointStep = await eventually(async () => {
      const job = await jobOf(replica, queued.id);
      if (job.state === 'FAILED') throw new Error(`training failed before the kill: ${job.error}`);
      if (job.state === 'SUCCEEDED') throw new Error('training finished before it could be killed');
      const { supernet } = await replica.gql(`query($id: ID!) { supernet(id: $id) { run { checkpointStep } } }`, { id: queued.payload.supernetId });
      const saved = supernet.run.checkpointStep as number | null;
      const last = (await series(replica, runId, 'loss')).at(-1)?.step ?? 0;
      return saved && last > saved && saved < EPOCHS * STEPS_PER_EPOCH ? saved : undefined;
    }, 120_000);
    await first.kill();

    const second = await cluster.worker([replica], { plugins: ['tfjs'] });
    const done = await jobWhen(replica, queued.id, (j) => j.state === 'SUCCEEDED', 180_000);
    expect(done.attemptHistory.map((a) => [a.attempt, a.workerId, a.outcome])).toEqual([
      [1, first.workerId, 'EXPIRED'],
      [2, second.workerId, 'SUCCEEDED'],
    ]);
    expect(done.result.steps).toBe(EPOCHS * STEPS_PER_EPOCH);
    expect(done.result.resumedFromStep).toBeGreaterThanOrEqual(checkpointStep);
    expect(done.result.resumedFromStep % STEPS_PER_EPOCH).toBe(0);
    expect((await series(replica, runId, 'loss')).map((p) => p.step)).toEqual(steps(EPOCHS * STEPS_PER_EPOCH));
    expect((await series(replica, runId, 'heldout_top1/widest')).map((p) => p.step)).toEqual(steps(EPOCHS).map((e) => e * STEPS_PER_EPOCH));
  }, 400_000);
});
