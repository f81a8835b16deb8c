import type { ChildServer } from '../support/child';
import { Cluster, WORKER_TOKEN, queueTraining, series } from '../support/cluster';
import { seedTinySearch } from '../support/fixtures';

interface ProgressEvent {
  trainingProgress: { points: { name: string; step: number }[] };
}

/** The test is the worker, sending the largest batches the protocol admits to a replica with a live subscriber. */
describe('metric batches at the protocol\'s volume', () => {
  let cluster: Cluster;
  let replica: ChildServer;

  beforeAll(async () => {
    cluster = await Cluster.create('postgresql', { leaseSeconds: 120 });
    replica = await cluster.replica();
  });

  afterAll(async () => {
    await cluster.close();
  });

  const post = async (path: string, body: object) => {
    const res = await fetch(`${replica.url}/worker/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${WORKER_TOKEN}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('stores and publishes thousands of metrics events of one batch, and one event of 20,000 points, with the server still up', async () => {
    const { spaceId, datasetId } = await seedTinySearch(replica, 'volume');
    const job = await queueTraining(replica, spaceId, datasetId, 'sn', 1);
    const runId = job.payload.runId;
    const progress = replica.subscribe<ProgressEvent>(`subscription($r: ID!) { trainingProgress(runId: $r) { points { name step } } }`, { r: runId });
    await progress.ready;
    const { body: registered } = await post('/register', {
      host: 'volume-test',
      pid: 1,
      version: 'test',
      concurrency: 1,
      executors: [{ name: 'hand', kinds: ['TRAIN_SUPERNET'], capabilities: { backend: 'test', provider: 'cpu', device: 'test device', versions: {} } }],
    });
    const { body: claimed } = await post('/claim', { workerId: registered.workerId, waitMs: 5_000 });
    const lease = claimed.job.lease;

    // As a trainer reporting every step sends them: one small metrics event per step.
    const perStep = Array.from({ length: 3_000 }, (_, i) => ({ type: 'event', event: { type: 'metrics', runId, points: [{ name: 'loss', step: i + 1, value: 1 }] } }));
    const oneEvent = { type: 'event', event: { type: 'metrics', runId, points: Array.from({ length: 20_000 }, (_, i) => ({ name: 'lr', step: i + 1, value: 0.1 })) } };
    expect(await post(`/jobs/${job.id}/updates`, { lease, updates: [...perStep, oneEvent] })).toEqual({ status: 200, body: { ok: true } });

    const total = (events: ProgressEvent[]) => events.reduce((n, e) => n + e.trainingProgress.points.length, 0);
    await progress.until(() => total(progress.all()) >= 23_000, 30_000);
    expect(total(progress.all())).toBe(23_000);
    progress.close();
    expect((await series(replica, runId, 'loss')).length).toBe(3_000);
    expect(replica.exited).toBe(false);
  });
});
