import { ATTEMPT_METRIC } from '../support/cluster-plugins';
import { Cluster, jobWhen, queueTraining, series, steps } from '../support/cluster';
import { seedTinySearch } from '../support/fixtures';

interface ProgressEvent {
  trainingProgress: { runId: string; points: { name: string; step: number; value: number }[] };
}

describe('a replica SIGKILLed while subscribers and workers are connected to it', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.create('postgresql');
  });

  afterAll(async () => {
    await cluster.close();
  });

  it('its workers carry on through the other replica under the same lease; the job completes and nothing is lost', async () => {
    const STEPS = 40;
    const doomed = await cluster.replica();
    const survivor = await cluster.replica();
    // The doomed replica first: the worker reports through it until it dies.
    const worker = await cluster.worker([doomed, survivor], { plugins: ['steps'], stepMs: 100 });
    const { spaceId, datasetId } = await seedTinySearch(doomed, 'failover');
    const queued = await queueTraining(doomed, spaceId, datasetId, 'sn', STEPS);
    const runId = queued.payload.runId;
    const query = `subscription($r: ID!) { trainingProgress(runId: $r) { runId points { name step value } } }`;
    const onDoomed = doomed.subscribe<ProgressEvent>(query, { r: runId });
    const onSurvivor = survivor.subscribe<ProgressEvent>(query, { r: runId });
    await Promise.all([onDoomed.ready, onSurvivor.ready]);

    await jobWhen(doomed, queued.id, (j) => j.state === 'RUNNING' && j.progress >= 5 / STEPS);
    await doomed.kill();
    onDoomed.close();

    const done = await jobWhen(survivor, queued.id, (j) => j.state === 'SUCCEEDED');
    // The lease lives in the database, not in the replica: the worker kept it.
    expect(done.attemptHistory.map((a) => [a.attempt, a.workerId, a.outcome])).toEqual([[1, worker.workerId, 'SUCCEEDED']]);
    expect(done.result).toEqual({ steps: STEPS, resumedFromStep: 0, attempt: 1 });
    expect((await series(survivor, runId, ATTEMPT_METRIC)).map((p) => p.step)).toEqual(steps(STEPS));

    // The doomed replica's subscriber saw a prefix, each step once.
    const beforeDeath = onDoomed.all().flatMap((e) => e.trainingProgress.points.map((p) => p.step));
    expect(beforeDeath).toEqual(steps(beforeDeath.length));
    // The survivor's subscriber saw every step exactly once, including those reported through the doomed replica.
    await onSurvivor.until((e) => e.trainingProgress.points.some((p) => p.step === STEPS), 10_000);
    const seen = onSurvivor.all().flatMap((e) => e.trainingProgress.points.map((p) => p.step));
    onSurvivor.close();
    expect([...seen].sort((x, y) => x - y)).toEqual(steps(STEPS));
  });
});
