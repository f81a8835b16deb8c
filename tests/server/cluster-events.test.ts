import { Client } from 'pg';
import type { Logger } from '../../executors/contract';
import { ALL_JOBS, createClusterEventBus, publishJob, type ClusterEventBus, type TrainingProgressEvent } from '../../server/events';
import type { JobView } from '../../server/jobs/job-view';
import { JobState } from '../../schema/enums';
import { APPEND_LOCK, EVENT_TABLE } from '../../server/pubsub/event-log';
import { scratchDatabase, type ScratchDatabase } from '../support/databases';

class RecordingLog implements Logger {
  readonly infos: string[] = [];
  readonly warnings: string[] = [];
  info(message: string): void {
    this.infos.push(message);
  }
  warn(message: string): void {
    this.warnings.push(message);
  }
}

/** Two buses on one database stand for two server replicas. */
describe('event bus across replicas (PostgreSQL)', () => {
  let db: ScratchDatabase;
  let url: string;
  let a: ClusterEventBus;
  let b: ClusterEventBus;
  const logA = new RecordingLog();
  const logB = new RecordingLog();

  beforeAll(async () => {
    db = await scratchDatabase('postgresql');
    if (db.target.kind !== 'postgresql') throw new Error('expected a PostgreSQL scratch database');
    url = db.target.url;
    a = await createClusterEventBus({ postgresUrl: url, log: logA, applicationName: 'replica-a' });
    b = await createClusterEventBus({ postgresUrl: url, log: logB, applicationName: 'replica-b' });
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('delivers what A publishes to subscribers on B and on A, in order, exactly once', async () => {
    const onB = collect(b.bus.subscribe('TRAINING_PROGRESS', 'run-order'));
    const onA = collect(a.bus.subscribe('TRAINING_PROGRESS', 'run-order'));
    for (let step = 0; step < 100; step++) a.bus.publish('TRAINING_PROGRESS', 'run-order', progress('run-order', step));
    a.bus.publish('TRAINING_PROGRESS', 'run-order', progress('run-order', END));

    const expected = [...Array.from({ length: 100 }, (_, step) => step), END];
    for (const subscriber of [onB, onA]) {
      await subscriber.until((events) => events.some(isEnd));
      expect(subscriber.events.map(firstStep)).toEqual(expected);
      await subscriber.stop();
    }
  });

  it('gives every replica the same order when both publish at once', async () => {
    const onA = collect(a.bus.subscribe('TRAINING_PROGRESS', 'run-race'));
    const onB = collect(b.bus.subscribe('TRAINING_PROGRESS', 'run-race'));
    for (let step = 0; step < 100; step++) {
      a.bus.publish('TRAINING_PROGRESS', 'run-race', progress('run-race', step, 'a'));
      b.bus.publish('TRAINING_PROGRESS', 'run-race', progress('run-race', step, 'b'));
    }
    a.bus.publish('TRAINING_PROGRESS', 'run-race', progress('run-race', END, 'a'));
    b.bus.publish('TRAINING_PROGRESS', 'run-race', progress('run-race', END, 'b'));

    const bothEnded = (events: TrainingProgressEvent[]) => events.filter(isEnd).length === 2;
    await onA.until(bothEnded);
    await onB.until(bothEnded);
    const order = (events: TrainingProgressEvent[]) => events.map((e) => `${e.points[0].name}${firstStep(e)}`);
    expect(order(onB.events)).toEqual(order(onA.events));
    expect(onA.events).toHaveLength(202);
    for (const origin of ['a', 'b']) {
      const steps = onA.events.filter((e) => e.points[0].name === origin).map(firstStep);
      expect(steps).toEqual([...Array.from({ length: 100 }, (_, step) => step), END]);
    }
    await onA.stop();
    await onB.stop();
  });

  it('carries a payload far over NOTIFY’s 8,000 bytes intact', async () => {
    const onB = collect(b.bus.subscribe('TRAINING_PROGRESS', 'run-big'));
    const points = Array.from({ length: 2_000 }, (_, step) => ({ name: 'train/loss', step, value: 1 / (step + 1) }));
    const big: TrainingProgressEvent = { runId: 'run-big', points };
    expect(JSON.stringify(big).length).toBeGreaterThan(50_000);
    a.bus.publish('TRAINING_PROGRESS', 'run-big', big);

    await onB.until((events) => events.length === 1);
    expect(onB.events[0]).toEqual(big);
    await onB.stop();
  });

  it('delivers a keyed topic only to subscribers of its key, and an unkeyed one to all', async () => {
    const onK1 = collect(b.bus.subscribe('SLIMMING_PROGRESS', 'trajectory-1'));
    const work = collect(b.bus.subscribe('WORK'));
    a.bus.publish('SLIMMING_PROGRESS', 'trajectory-2', { trajectoryId: 'trajectory-2', stepId: 'x1' });
    a.bus.publish('SLIMMING_PROGRESS', 'trajectory-1', { trajectoryId: 'trajectory-1', stepId: 's1' });
    a.bus.publish('SLIMMING_PROGRESS', 'trajectory-2', { trajectoryId: 'trajectory-2', stepId: 'x2' });
    a.bus.publish('WORK', { jobId: 'job-1' });
    a.bus.publish('SLIMMING_PROGRESS', 'trajectory-1', { trajectoryId: 'trajectory-1', stepId: 's2' });

    // One order for all topics: once s2 is here, every event published before it has been dispatched.
    await onK1.until((events) => events.some((e) => e.stepId === 's2'));
    expect(onK1.events.map((e) => e.stepId)).toEqual(['s1', 's2']);
    expect(work.events).toEqual([{ jobId: 'job-1' }]);
    await onK1.stop();
    await work.stop();
  });

  it('gives back the Date fields of a JobView', async () => {
    const job = jobView({ createdAt: new Date('2025-03-01T10:00:00.123Z'), startedAt: new Date('2025-03-01T10:00:05Z') });
    const all = collect(b.bus.subscribe('JOB_UPDATED', ALL_JOBS));
    publishJob(a.bus, job);

    await all.until((events) => events.length === 1);
    const received = all.events[0];
    expect(received.createdAt).toBeInstanceOf(Date);
    expect(received.startedAt).toBeInstanceOf(Date);
    expect(received.finishedAt).toBeNull();
    expect(received).toEqual(job);
    await all.stop();
  });

  it('does not skip an event whose sequence number was drawn first but committed last', async () => {
    const onB = collect(b.bus.subscribe('SLIMMING_PROGRESS', 'trajectory-gap'));
    await withClient(url, async (slow) => {
      // A publisher on another replica, caught between drawing its sequence number and committing.
      await slow.query('BEGIN');
      await slow.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK]);
      await slow.query(
        `INSERT INTO ${EVENT_TABLE} (origin, origin_seq, topic, payload) VALUES (gen_random_uuid(), 0, $1, $2)`,
        ['SLIMMING_PROGRESS:trajectory-gap', JSON.stringify({ trajectoryId: 'trajectory-gap', stepId: 'drawn-first' })],
      );
      a.bus.publish('SLIMMING_PROGRESS', 'trajectory-gap', { trajectoryId: 'trajectory-gap', stepId: 'drawn-second' });
      // Time for A's append to commit and be read, were it not waiting for the slow one.
      await sleep(300);
      await slow.query('COMMIT');
    });

    await onB.until((events) => events.length === 2);
    expect(onB.events.map((e) => e.stepId)).toEqual(['drawn-first', 'drawn-second']);
    await onB.stop();
  });

  it('reconnects after its listening connection is killed and misses nothing, duplicates nothing', async () => {
    const onB = collect(b.bus.subscribe('TRAINING_PROGRESS', 'run-kill'));
    const listenerPid = await backendPid(url, 'replica-b:listen');
    for (let step = 0; step < 60; step++) {
      a.bus.publish('TRAINING_PROGRESS', 'run-kill', progress('run-kill', step));
      if (step === 20) expect(await terminate(url, 'replica-b:listen')).toBe(1);
      await sleep(10);
    }
    a.bus.publish('TRAINING_PROGRESS', 'run-kill', progress('run-kill', END));

    await onB.until((events) => events.some(isEnd));
    expect(onB.events.map(firstStep)).toEqual([...Array.from({ length: 60 }, (_, step) => step), END]);
    expect(logB.warnings.some((m) => m.includes('listening connection lost'))).toBe(true);
    expect(logB.infos.some((m) => m.includes('listening again'))).toBe(true);
    expect(await backendPid(url, 'replica-b:listen')).not.toBe(listenerPid);
    await onB.stop();
  });

  it('retries a publish whose connection is killed mid-append, and delivers it once', async () => {
    const onB = collect(b.bus.subscribe('TRAINING_PROGRESS', 'run-retry'));
    a.bus.publish('TRAINING_PROGRESS', 'run-retry', progress('run-retry', 0));
    await withClient(url, async (blocker) => {
      // Holding the append lock parks A's next append inside its transaction, where we kill it.
      await blocker.query('BEGIN');
      await blocker.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK]);
      a.bus.publish('TRAINING_PROGRESS', 'run-retry', progress('run-retry', 1));
      a.bus.publish('TRAINING_PROGRESS', 'run-retry', progress('run-retry', 2));
      await waitForLockWaiter(blocker, 'replica-a');
      expect(await terminate(url, 'replica-a')).toBeGreaterThanOrEqual(1);
      await blocker.query('COMMIT');
    });
    a.bus.publish('TRAINING_PROGRESS', 'run-retry', progress('run-retry', 3));
    a.bus.publish('TRAINING_PROGRESS', 'run-retry', progress('run-retry', END));

    await onB.until((events) => events.some(isEnd));
    expect(onB.events.map(firstStep)).toEqual([0, 1, 2, 3, END]);
    expect(logA.warnings.some((m) => m.includes('publishing failed'))).toBe(true);
    await onB.stop();
  });

  it('prunes events older than the retention and keeps newer ones', async () => {
    const pruning = await createClusterEventBus({
      postgresUrl: url,
      log: new RecordingLog(),
      applicationName: 'replica-prune',
      retentionMs: 60_000,
      pruneEveryMs: 100,
    });
    try {
      await withClient(url, async (client) => {
        const count = async (topic: string) =>
          Number((await client.query(`SELECT count(*) AS n FROM ${EVENT_TABLE} WHERE topic = $1`, [topic])).rows[0].n);
        pruning.bus.publish('SLIMMING_PROGRESS', 'trajectory-old', { trajectoryId: 'trajectory-old', stepId: 'old' });
        pruning.bus.publish('SLIMMING_PROGRESS', 'trajectory-new', { trajectoryId: 'trajectory-new', stepId: 'new' });
        await eventuallyAsync(async () => (await count('SLIMMING_PROGRESS:trajectory-new')) === 1);
        await client.query(`UPDATE ${EVENT_TABLE} SET created_at = now() - interval '1 hour' WHERE topic = $1`, ['SLIMMING_PROGRESS:trajectory-old']);

        await eventuallyAsync(async () => (await count('SLIMMING_PROGRESS:trajectory-old')) === 0);
        expect(await count('SLIMMING_PROGRESS:trajectory-new')).toBe(1);
      });
    } finally {
      await pruning.close();
    }
  });

  it('closes every connection and timer it opened', async () => {
    const before = activeResources();
    const c = await createClusterEventBus({ postgresUrl: url, log: new RecordingLog(), applicationName: 'replica-c' });
    const onC = collect(c.bus.subscribe('WORK'));
    c.bus.publish('WORK', { jobId: 'job-c' });
    await onC.until((events) => events.length === 1);
    await onC.stop();
    await c.close();

    await within(5_000, () => activeResources().sockets <= before.sockets && activeResources().timers <= before.timers);
    expect(await backendPid(url, 'replica-c:listen')).toBeNull();
  });

  it('fails to start with a clear error when PostgreSQL cannot be reached', async () => {
    await expect(
      createClusterEventBus({ postgresUrl: 'postgres://postgres@127.0.0.1:1/nowhere', log: new RecordingLog() }),
    ).rejects.toThrow(/event bus: cannot use PostgreSQL for events/);
  });
});

const END = -1;

function progress(runId: string, step: number, origin = 'train/loss'): TrainingProgressEvent {
  return { runId, points: [{ name: origin, step, value: step / 10 }] };
}

const firstStep = (event: TrainingProgressEvent) => event.points[0].step;
const isEnd = (event: TrainingProgressEvent) => firstStep(event) === END;

function jobView(dates: Pick<JobView, 'createdAt' | 'startedAt'>): JobView {
  return {
    id: '6d1f9a52-4c0e-4b8a-9a57-2f1f0c6b1a01',
    projectId: '6d1f9a52-4c0e-4b8a-9a57-2f1f0c6b1a02',
    kind: 'TRAIN_SUPERNET',
    state: JobState.RUNNING,
    attempts: 1,
    maxAttempts: 3,
    progress: 0.25,
    progressMessage: 'epoch 1 of 4',
    error: null,
    cancelRequested: false,
    executorName: 'tfjs',
    backend: 'wasm',
    provider: 'cpu',
    device: 'test cpu',
    executorNote: null,
    payload: { recipe: { epochs: 4 } },
    result: null,
    subjectType: 'Supernet',
    subjectId: '6d1f9a52-4c0e-4b8a-9a57-2f1f0c6b1a03',
    deviceFingerprint: null,
    workerId: '6d1f9a52-4c0e-4b8a-9a57-2f1f0c6b1a04',
    finishedAt: null,
    heartbeatAt: new Date('2025-03-01T10:01:00Z'),
    leaseExpiresAt: new Date('2025-03-01T10:03:00Z'),
    ...dates,
  };
}

interface Collector<T> {
  readonly events: T[];
  until(done: (events: T[]) => boolean): Promise<void>;
  stop(): Promise<void>;
}

/** Reads a subscription into an array from now on (the first next() attaches the listener). */
function collect<T>(subscription: AsyncIterableIterator<T>): Collector<T> {
  const events: T[] = [];
  const reading = (async () => {
    for await (const event of subscription) events.push(event);
  })();
  return {
    events,
    until: (done) => within(20_000, () => done(events)),
    stop: async () => {
      await subscription.return?.();
      await reading;
    },
  };
}

async function within(timeoutMs: number, done: () => boolean): Promise<void> {
  const step = 20;
  for (let waited = 0; waited <= timeoutMs; waited += step) {
    if (done()) return;
    await sleep(step);
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function activeResources(): { sockets: number; timers: number } {
  const resources = process.getActiveResourcesInfo();
  return {
    sockets: resources.filter((r) => r === 'TCPSocketWrap').length,
    timers: resources.filter((r) => r === 'Timeout').length,
  };
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function backendPid(url: string, applicationName: string): Promise<number | null> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1',
      [applicationName],
    );
    return rows[0]?.pid ?? null;
  });
}

async function eventuallyAsync(done: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await done()) return;
    await sleep(50);
  }
  throw new Error('condition not met within 100 checks');
}

async function waitForLockWaiter(client: Client, applicationName: string): Promise<void> {
  await eventuallyAsync(async () => {
    const { rowCount } = await client.query(
      `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND wait_event_type = 'Lock'`,
      [applicationName],
    );
    return (rowCount ?? 0) > 0;
  });
}

/** Kills the backends of one application name in this database; how many it killed. */
function terminate(url: string, applicationName: string): Promise<number> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ killed: boolean }>(
      `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()`,
      [applicationName],
    );
    return rows.filter((row) => row.killed).length;
  });
}
