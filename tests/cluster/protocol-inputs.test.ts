import { randomUUID } from 'node:crypto';
import type { ChildServer } from '../support/child';
import { Cluster, WORKER_TOKEN, jobOf, queueTraining, series, type ClusterJob } from '../support/cluster';
import { seedTinySearch } from '../support/fixtures';

interface Answer {
  status: number;
  body: any;
}

const REGISTRATION = {
  host: 'protocol-test',
  pid: 1,
  version: 'test',
  concurrency: 1,
  executors: [{ name: 'hand', kinds: ['TRAIN_SUPERNET'], capabilities: { backend: 'test', provider: 'cpu', device: 'test device', versions: {} } }],
};

/** The test is the worker: every request goes over real HTTP to a replica in its own process. */
describe('the worker protocol refuses bad inputs and changes nothing', () => {
  let cluster: Cluster;
  let replica: ChildServer;
  let workerId: string;
  let held: ClusterJob;
  let notHeld: ClusterJob;
  let lease: { jobId: string; attempt: number; token: string };

  const send = async (path: string, body: string | object, headers: Record<string, string> = { authorization: `Bearer ${WORKER_TOKEN}` }): Promise<Answer> => {
    const res = await fetch(`${replica.url}/worker/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    return { status: res.status, body: await res.json() };
  };

  const update = (jobId: string, updates: unknown, l: { attempt: number; token: string } = lease) => send(`/jobs/${jobId}/updates`, { lease: l, updates });

  /** What a refused request must not have touched. */
  const footprint = async (job: ClusterJob) => {
    const now = await jobOf(replica, job.id);
    return { state: now.state, attempts: now.attempts, progress: now.progress, result: now.result, points: (await series(replica, job.payload.runId, 'loss')).length };
  };

  beforeAll(async () => {
    // The test holds its lease without heartbeating: a long one outlasts every test here.
    cluster = await Cluster.create('postgresql', { leaseSeconds: 120 });
    replica = await cluster.replica();
    const { spaceId, datasetId } = await seedTinySearch(replica, 'protocol');
    held = await queueTraining(replica, spaceId, datasetId, 'held', 3);
    notHeld = await queueTraining(replica, spaceId, datasetId, 'not-held', 3);
    const registered = await send('/register', REGISTRATION);
    expect(registered.status).toBe(200);
    workerId = registered.body.workerId;
    const claimed = await send('/claim', { workerId, waitMs: 5_000 });
    expect(claimed.body.job.spec.id).toBe(held.id);
    lease = claimed.body.job.lease;
  });

  afterAll(async () => {
    await cluster.close();
  });

  it('answers 401 UNAUTHENTICATED without a valid worker token', async () => {
    const refused: Record<string, string>[] = [{}, { authorization: 'Bearer not-the-token-at-all' }, { authorization: `Basic ${WORKER_TOKEN}` }, { authorization: `Bearer ${WORKER_TOKEN}x` }];
    for (const headers of refused) {
      const answer = await send('/register', REGISTRATION, headers);
      expect(answer).toEqual({ status: 401, body: { error: { code: 'UNAUTHENTICATED', message: expect.any(String) } } });
      expect(JSON.stringify(answer.body)).not.toContain(WORKER_TOKEN);
    }
    const before = await footprint(held);
    expect((await send(`/jobs/${held.id}/updates`, { lease, updates: [{ type: 'progress', fraction: 0.9 }] }, {})).status).toBe(401);
    expect(await footprint(held)).toEqual(before);
  });

  it('answers UNKNOWN_WORKER to a heartbeat or claim of a worker it never registered', async () => {
    for (const path of ['/heartbeat', '/claim']) {
      const answer = await send(path, { workerId: randomUUID(), leases: [], waitMs: 0 });
      expect(answer).toEqual({ status: 404, body: { error: { code: 'UNKNOWN_WORKER', message: expect.any(String) } } });
    }
  });

  it('answers 409 LEASE_LOST to a report for a job the worker does not hold, and changes nothing', async () => {
    const points = [{ type: 'progress', fraction: 0.5 }, { type: 'event', event: { type: 'metrics', runId: held.payload.runId, points: [{ name: 'loss', step: 1, value: 1 }] } }];
    const heldBefore = await footprint(held);
    const notHeldBefore = await footprint(notHeld);
    const refusals = [
      await update(notHeld.id, points),
      await update(held.id, points, { attempt: lease.attempt, token: 'a-token-this-job-never-had' }),
      await update(held.id, points, { attempt: lease.attempt + 1, token: lease.token }),
      await send(`/jobs/${notHeld.id}/finish`, { lease, outcome: { type: 'succeeded', result: { forged: true } } }),
    ];
    for (const answer of refusals) expect(answer).toEqual({ status: 409, body: { error: { code: 'LEASE_LOST', message: expect.any(String) } } });
    expect(await footprint(held)).toEqual(heldBefore);
    expect(await footprint(notHeld)).toEqual(notHeldBefore);
    expect(notHeldBefore.state).toBe('QUEUED');
  });

  it('answers 400 BAD_REQUEST to malformed JSON or a malformed update, and applies none of the batch', async () => {
    const before = await footprint(held);
    const good = [{ type: 'progress', fraction: 0.5 }, { type: 'event', event: { type: 'metrics', runId: held.payload.runId, points: [{ name: 'loss', step: 1, value: 1 }] } }];
    const refusals = [
      await send(`/jobs/${held.id}/updates`, '{"lease": {"attempt": 1,'),
      await send(`/jobs/${held.id}/updates`, '[1, 2, 3]'),
      await update(held.id, [...good, { type: 'event', event: { type: 'no-such-event' } }]),
      await update(held.id, [...good, { type: 'event', event: { type: 'metrics', runId: held.payload.runId, points: [{ name: 'loss', step: 'two', value: 1 }] } }]),
      await update(held.id, [...good, { type: 'progress', fraction: 'half' }]),
      await update(held.id, [...good, { type: 'teleport' }]),
      await send(`/jobs/${held.id}/updates`, { lease: { attempt: lease.attempt }, updates: good }),
      await send(`/jobs/not-a-uuid/updates`, { lease, updates: good }),
      // Well-formed, but about a run that is not the job's: refused inside the fenced transaction, which rolls back.
      await update(held.id, [...good, { type: 'event', event: { type: 'metrics', runId: randomUUID(), points: [{ name: 'loss', step: 2, value: 1 }] } }]),
      await send(`/jobs/${held.id}/finish`, { lease, outcome: { type: 'exploded' } }),
      await send(`/jobs/${held.id}/finish`, { lease, outcome: { type: 'succeeded', result: null }, claimNext: { workerId: 'me' } }),
    ];
    for (const answer of refusals) expect(answer).toEqual({ status: 400, body: { error: { code: 'BAD_REQUEST', message: expect.any(String) } } });
    expect(await footprint(held)).toEqual(before);
  });

  it('answers 413 TOO_LARGE to a body over the limit, and changes nothing', async () => {
    const before = await footprint(held);
    const message = 'x'.repeat(33 * 1024 * 1024);
    const answer = await update(held.id, [{ type: 'progress', fraction: 0.7 }, { type: 'event', event: { type: 'log', level: 'info', message } }]);
    expect(answer).toEqual({ status: 413, body: { error: { code: 'TOO_LARGE', message: expect.any(String) } } });
    expect(await footprint(held)).toEqual(before);
  });

  it('still takes the holder\'s good reports afterwards, and finishes the job only once', async () => {
    expect(await update(held.id, [{ type: 'event', event: { type: 'metrics', runId: held.payload.runId, points: [{ name: 'loss', step: 1, value: 0.5 }] } }])).toEqual({
      status: 200,
      body: { ok: true },
    });
    // The finish hands over the worker's next waiting job in the same answer.
    const finished = await send(`/jobs/${held.id}/finish`, { lease, outcome: { type: 'succeeded', result: { n: 1 } }, claimNext: { workerId } });
    expect(finished.status).toBe(200);
    expect(finished.body.next).toMatchObject({ spec: { id: notHeld.id, attempt: 1 }, lease: { jobId: notHeld.id, attempt: 1 } });
    const again = await send(`/jobs/${held.id}/finish`, { lease, outcome: { type: 'succeeded', result: { n: 2 } } });
    expect(again.body.error.code).toBe('LEASE_LOST');
    const heartbeat = await send('/heartbeat', { workerId, leases: [{ jobId: held.id, token: lease.token }] });
    expect(heartbeat.body).toEqual({ leases: [{ jobId: held.id, status: 'lost' }] });
    const done = await jobOf(replica, held.id);
    expect([done.state, done.result, done.attemptHistory.map((a) => a.outcome)]).toEqual(['SUCCEEDED', { n: 1 }, ['SUCCEEDED']]);
    expect(await series(replica, held.payload.runId, 'loss')).toEqual([{ step: 1, value: 0.5 }]);
  });
});
