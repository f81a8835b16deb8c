import { defaultChannels, profile } from '../../autoslim';
import type { JobContext, JobSpec } from '../../executors/contract';
import { DATABASES } from '../support/databases';
import { JOB_FIELDS, seedProject, trainSupernet } from '../support/fixtures';
import { ScriptedPlugin } from '../support/plugins';
import { TestServer, eventually } from '../support/server';

interface JobEvent {
  jobUpdated: { id: string; state: string; progress: number; progressMessage: string | null; attempts: number; error: string | null };
}

const JOB_SUBSCRIPTION = `subscription($p: ID, $j: ID) { jobUpdated(projectId: $p, jobId: $j) { id state progress progressMessage attempts error } }`;

/** States in the order first seen, so repeated progress events of one state count once. */
function stateSequence(events: JobEvent[]): string[] {
  return events.map((e) => e.jobUpdated.state).filter((state, i, all) => i === 0 || all[i - 1] !== state);
}

describe.each(DATABASES)('jobs, executors and live updates on %s', (kind) => {
  let server: TestServer;
  const gates = new Map<string, () => void>();
  const gate = (jobId: string) => new Promise<void>((open) => gates.set(jobId, open));
  const open = async (jobId: string) => (await eventually(async () => gates.get(jobId)))();

  const trainer = new ScriptedPlugin(['TRAIN_SUPERNET', 'RETRAIN'], async (job, ctx, test) => {
    const payload = job.payload as { runId: string; recipe: { seed: number } };
    if (job.kind === 'RETRAIN') {
      const top1 = payload.recipe.seed === 1 ? 0.9 : 0.8;
      await ctx.report({ type: 'runSummary', runId: payload.runId, summary: { top1, top5: 0.99 } });
      return { top1 };
    }
    return test.awaitOutcome(job, ctx);
  });
  const slimmer = new ScriptedPlugin(['SLIM'], (job, ctx) => reportTrajectory(job, ctx, gate(job.id)), 'scripted-slim');

  beforeAll(async () => {
    server = await TestServer.start(kind, [trainer, slimmer]);
  });

  afterAll(async () => {
    await server.stop();
  });

  it('publishes QUEUED → RUNNING → SUCCEEDED, in order, to project and job subscribers', async () => {
    const { projectId, datasetId, space } = await seedProject(server, 'lifecycle');
    const byProject = server.subscribe<JobEvent>(JOB_SUBSCRIPTION, { p: projectId });
    await byProject.ready;
    const job = await trainSupernet(server, space.id, datasetId);
    const ctx = await trainer.whenStarted(job.id);
    const byJob = server.subscribe<JobEvent>(JOB_SUBSCRIPTION, { j: job.id });
    await byJob.ready;
    await ctx.progress(0.5, 'epoch 1 of 2');
    trainer.finish(job.id, { top1: 0.91 });
    await byProject.until((e) => e.jobUpdated.state === 'SUCCEEDED');
    expect(stateSequence(byProject.all())).toEqual(['QUEUED', 'RUNNING', 'SUCCEEDED']);
    expect(byProject.all().find((e) => e.jobUpdated.progressMessage === 'epoch 1 of 2')?.jobUpdated.progress).toBe(0.5);
    await byJob.until((e) => e.jobUpdated.state === 'SUCCEEDED');
    expect(stateSequence(byJob.all())).toEqual(['RUNNING', 'SUCCEEDED']);
    byProject.close();
    byJob.close();

    const { job: done } = await server.gql(`query($id: ID!) { job(id: $id) { state progress attempts result executorName backend provider device startedAt finishedAt waitingReason } }`, { id: job.id });
    expect(done).toMatchObject({ state: 'SUCCEEDED', progress: 1, attempts: 1, result: { top1: 0.91 }, executorName: 'scripted', backend: 'test', provider: 'cpu', waitingReason: null });
    expect(Date.parse(done.finishedAt)).toBeGreaterThanOrEqual(Date.parse(done.startedAt));
    const { supernet } = await server.gql(`query($id: ID!) { supernet(id: $id) { run { status backend startedAt finishedAt } } }`, { id: job.payload.supernetId });
    expect(supernet.run).toMatchObject({ status: 'FINISHED', backend: 'test' });
    const { executors } = await server.gql(`{ executors { name kinds backend provider device online versions note } }`);
    expect(executors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'scripted', kinds: ['TRAIN_SUPERNET', 'RETRAIN'], backend: 'test', online: true, note: 'test-only plugin' }),
        expect.objectContaining({ name: 'scripted-slim', kinds: ['SLIM'] }),
      ]),
    );
    const { job: history } = await server.gql(
      `query($id: ID!) { job(id: $id) { workerId worker { id } attemptHistory { attempt workerId executorName claimedAt leaseExpiresAt endedAt outcome error } } }`,
      { id: job.id },
    );
    expect(history.workerId).toBeNull();
    expect(history.worker).toBeNull();
    expect(history.attemptHistory).toEqual([
      expect.objectContaining({ attempt: 1, executorName: 'scripted', outcome: 'SUCCEEDED', error: null, endedAt: expect.any(String) }),
    ]);
    const { workers } = await server.gql(`{ workers { id online plugins concurrency version executors { name } currentJobs { id } } }`);
    expect(workers).toEqual([
      expect.objectContaining({ id: history.attemptHistory[0].workerId, online: true, plugins: ['scripted', 'scripted-slim'], concurrency: 2, currentJobs: [] }),
    ]);
    expect(workers[0].executors.map((e: { name: string }) => e.name)).toEqual(['scripted', 'scripted-slim']);
    expect(await server.gql(`{ workers(online: false) { id } }`)).toEqual({ workers: [] });
  });

  it('shows the worker running a job, and says why a job waits while every capable worker is busy', async () => {
    const { datasetId, space } = await seedProject(server, 'busy');
    const first = await trainSupernet(server, space.id, datasetId, 'first');
    const second = await trainSupernet(server, space.id, datasetId, 'second');
    await trainer.whenStarted(first.id);
    await trainer.whenStarted(second.id);
    const third = await trainSupernet(server, space.id, datasetId, 'third');
    const { job: waiting } = await server.gql(`query($id: ID!) { job(id: $id) { state waitingReason } }`, { id: third.id });
    expect(waiting.state).toBe('QUEUED');
    expect(waiting.waitingReason).toMatch(/all 1 worker\(s\) that run TRAIN_SUPERNET jobs are busy/);
    const { job: running } = await server.gql(`query($id: ID!) { job(id: $id) { state leaseExpiresAt worker { id currentJobs { id } } } }`, { id: first.id });
    expect(running.state).toBe('RUNNING');
    expect(Date.parse(running.leaseExpiresAt)).toBeGreaterThan(Date.now());
    expect(running.worker.currentJobs.map((j: { id: string }) => j.id).sort()).toEqual([first.id, second.id].sort());
    trainer.finish(first.id);
    trainer.finish(second.id);
    await trainer.whenStarted(third.id);
    trainer.finish(third.id);
  });

  it('cancels a running job through its AbortSignal', async () => {
    const { projectId, datasetId, space } = await seedProject(server, 'cancel-running');
    const events = server.subscribe<JobEvent>(JOB_SUBSCRIPTION, { p: projectId });
    await events.ready;
    const job = await trainSupernet(server, space.id, datasetId);
    const ctx = await trainer.whenStarted(job.id);
    const { cancelJob } = await server.gql(`mutation($id: ID!) { cancelJob(id: $id) { state cancelRequested } }`, { id: job.id });
    expect(cancelJob).toEqual({ state: 'RUNNING', cancelRequested: true });
    await events.until((e) => e.jobUpdated.state === 'CANCELLED');
    expect(ctx.signal.aborted).toBe(true);
    expect(stateSequence(events.all())).toEqual(['QUEUED', 'RUNNING', 'CANCELLED']);
    events.close();
    const { supernet } = await server.gql(`query($id: ID!) { supernet(id: $id) { run { status } } }`, { id: job.payload.supernetId });
    expect(supernet.run.status).toBe('CANCELLED');
    expect(await server.gqlError(`mutation($id: ID!) { cancelJob(id: $id) { id } }`, { id: job.id })).toMatchObject({
      extensions: { code: 'FAILED_PRECONDITION', field: 'id' },
    });
  });

  it('records the error of a failing executor, and a retry resumes from the saved state', async () => {
    const { datasetId, space } = await seedProject(server, 'fail-retry');
    const job = await trainSupernet(server, space.id, datasetId);
    const first = await trainer.whenStarted(job.id);
    await first.saveState({ epoch: 3 });
    trainer.fail(job.id, new Error('device lost'));
    const failed = await eventually(async () => {
      const { job: j } = await server.gql(`query($id: ID!) { job(id: $id) { state error attempts } }`, { id: job.id });
      return j.state === 'FAILED' ? j : undefined;
    });
    expect(failed.error).toContain('device lost');
    expect(failed.attempts).toBe(1);
    expect(await server.gqlError(`mutation { retryJob(id: "00000000-0000-4000-8000-000000000000") { id } }`)).toMatchObject({ extensions: { code: 'NOT_FOUND' } });

    const { retryJob } = await server.gql(`mutation($id: ID!) { retryJob(id: $id) { id } }`, { id: job.id });
    expect(retryJob.id).toBe(job.id);
    await trainer.whenStarted(job.id, 2);
    const second = trainer.runs.filter((r) => r.id === job.id).at(-1)!;
    expect(second.attempt).toBe(2);
    expect(second.resumeState).toEqual({ epoch: 3 });
    expect(await server.gqlError(`mutation($id: ID!) { retryJob(id: $id) { id } }`, { id: job.id })).toMatchObject({
      extensions: { code: 'FAILED_PRECONDITION' },
    });
    trainer.finish(job.id, { resumed: true }, 2);
    const { job: done } = await eventually(async () => {
      const res = await server.gql(`query($id: ID!) { job(id: $id) { state attempts error result } }`, { id: job.id });
      return res.job.state === 'SUCCEEDED' ? res : undefined;
    });
    expect(done).toEqual({ state: 'SUCCEEDED', attempts: 2, error: null, result: { resumed: true } });
  });

  it('streams training metrics live and serves the history downsampled', async () => {
    const { datasetId, space } = await seedProject(server, 'metrics');
    const job = await trainSupernet(server, space.id, datasetId);
    const ctx = await trainer.whenStarted(job.id);
    const runId = job.payload.runId;
    const live = server.subscribe<{ trainingProgress: { runId: string; points: { name: string; step: number; value: number }[] } }>(
      `subscription($r: ID!) { trainingProgress(runId: $r) { runId points { name step value } } }`,
      { r: runId },
    );
    await live.ready;
    for (let batch = 0; batch < 10; batch++) {
      const points = Array.from({ length: 100 }, (_, i) => {
        const step = batch * 100 + i;
        return [
          { name: 'loss', step, value: 2 / (1 + step / 100) + (step === 555 ? 5 : 0) },
          { name: 'lr', step, value: 0.05 * (1 - step / 1000) },
        ];
      }).flat();
      await ctx.report({ type: 'metrics', runId, points });
    }
    // A step reported again (a resumed run, a retried request) is neither stored nor published twice.
    await ctx.report({ type: 'metrics', runId, points: [{ name: 'loss', step: 999, value: 123 }] });
    await ctx.report({ type: 'metrics', runId, points: [{ name: 'epoch', step: 1000, value: 1 }] });
    // Reports travel in batches, so events may carry several reports' points: count points, in order.
    await live.until((e) => e.trainingProgress.points.some((p) => p.name === 'epoch'));
    const streamed = live.all().flatMap((e) => e.trainingProgress.points);
    expect(streamed).toHaveLength(2001);
    expect(streamed.filter((p) => p.name === 'loss').map((p) => p.step)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(streamed.at(-1)).toEqual({ name: 'epoch', step: 1000, value: 1 });
    live.close();

    const { runHistory } = await server.gql(`query($r: ID!) { runHistory(runId: $r, maxPoints: 50) { key totalPoints points { step value } } }`, { r: runId });
    expect(runHistory.map((s: { key: string }) => s.key)).toEqual(['epoch', 'loss', 'lr']);
    for (const series of runHistory.slice(1)) {
      expect(series.totalPoints).toBe(1000);
      expect(series.points.length).toBeLessThanOrEqual(50);
      expect(series.points[0].step).toBe(0);
      expect(series.points.at(-1).step).toBe(999);
    }
    const loss = runHistory[1];
    expect(loss.points.find((p: { step: number }) => p.step === 555)?.value).toBeCloseTo(5 + 2 / 6.55);
    expect(loss.points.at(-1).value).not.toBe(123);
    const { runHistory: full } = await server.gql(`query($r: ID!) { runHistory(runId: $r, keys: ["lr"], maxPoints: 5000) { key points { step } } }`, { r: runId });
    expect(full).toHaveLength(1);
    expect(full[0].points).toHaveLength(1000);
    const { run } = await server.gql(`query($r: ID!) { run(id: $r) { metricKeys status } }`, { r: runId });
    expect(run).toEqual({ metricKeys: ['epoch', 'loss', 'lr'], status: 'RUNNING' });
    expect(await server.gqlError(`query($r: ID!) { runHistory(runId: $r, maxPoints: 1) { key } }`, { r: runId })).toMatchObject({ extensions: { field: 'maxPoints' } });
    trainer.finish(job.id);
  });

  it('stores a metrics report larger than one SQL statement can bind', async () => {
    const { datasetId, space } = await seedProject(server, 'many-points');
    const job = await trainSupernet(server, space.id, datasetId);
    const ctx = await trainer.whenStarted(job.id);
    const runId = job.payload.runId;
    const points = Array.from({ length: 8_000 }, (_, step) => ({ name: 'loss', step, value: 1 / (1 + step) }));
    await ctx.report({ type: 'metrics', runId, points });
    await ctx.saveState({ reported: true });
    const { runHistory } = await server.gql(`query($r: ID!) { runHistory(runId: $r, maxPoints: 10) { key totalPoints } }`, { r: runId });
    expect(runHistory).toEqual([{ key: 'loss', totalPoints: 8_000 }]);
    trainer.finish(job.id);
  });

  it('runs a slimming trajectory: steps stream live, candidates appear at each target, retraining aggregates', async () => {
    const { projectId, datasetId, space } = await seedProject(server, 'slimming');
    const job = await trainSupernet(server, space.id, datasetId);
    const ctx = await trainer.whenStarted(job.id);
    const artifact = await ctx.artifacts.put('CHECKPOINT', 'supernet.safetensors', Buffer.from('weights'));
    await ctx.report({ type: 'checkpoint', runId: job.payload.runId, artifact, step: 10 });
    trainer.finish(job.id);
    const { supernet } = await server.gql(`query($id: ID!) { supernet(id: $id) { checkpoint { kind sha256 bytes uri } run { checkpointStep checkpoint { id } } } }`, { id: job.payload.supernetId });
    expect(supernet.checkpoint).toMatchObject({ kind: 'CHECKPOINT', bytes: 7, sha256: artifact.sha256 });
    expect(supernet.run.checkpointStep).toBe(10);

    const { startSlimming: slim } = await server.gql(
      `mutation($s: ID!) { startSlimming(input: { supernetId: $s, targets: [4e6, 8e6], evalBatchSize: 32 }) { ${JOB_FIELDS} payload } }`,
      { s: job.payload.supernetId },
    );
    expect(slim).toMatchObject({ kind: 'SLIM', subjectId: slim.payload.trajectoryId });
    const steps = server.subscribe<{ slimmingProgress: { index: number; macs: number; unitName: string | null; channels: number[] } }>(
      `subscription($t: ID!) { slimmingProgress(trajectoryId: $t) { index macs unitName channels } }`,
      { t: slim.payload.trajectoryId },
    );
    await steps.ready;
    await open(slim.id);
    const received = await steps.take(3);
    steps.close();
    expect(received.map((e) => e.slimmingProgress.index)).toEqual([0, 1, 2]);
    const macs = received.map((e) => e.slimmingProgress.macs);
    expect(macs).toEqual([...macs].sort((a, b) => b - a));
    await eventually(async () => {
      const { job: j } = await server.gql(`query($id: ID!) { job(id: $id) { state } }`, { id: slim.id });
      return j.state === 'SUCCEEDED' ? true : undefined;
    });
    const { trajectory } = await server.gql(
      `query($t: ID!) { trajectory(id: $t) { targets evaluations cacheHits evalSeconds steps { index unitName macs accuracy accuracyDrop proposals { unitIndex score } }
        candidates { id source target macs searchAccuracy channels } supernet { id } } }`,
      { t: slim.payload.trajectoryId },
    );
    expect(trajectory.targets).toEqual([8e6, 4e6]);
    expect(trajectory.steps).toHaveLength(3);
    expect(trajectory).toMatchObject({ evaluations: 20, cacheHits: 2, evalSeconds: 1.5 });
    expect(trajectory.candidates.map((c: { target: number }) => c.target)).toEqual([8e6, 4e6]);
    for (const candidate of trajectory.candidates) {
      expect(candidate.source).toBe('AUTOSLIM');
      expect(candidate.macs).toBeLessThanOrEqual(candidate.target);
    }
    const { candidates } = await server.gql(`query($p: ID!, $t: ID!) { candidates(filter: { projectId: $p, trajectoryId: $t }) { totalCount } }`, { p: projectId, t: slim.payload.trajectoryId });
    expect(candidates.totalCount).toBe(2);

    const best = trajectory.candidates[0];
    const { retrainCandidate: retrains } = await server.gql(
      `mutation($c: ID!, $d: ID!) { retrainCandidate(input: { candidateId: $c, datasetId: $d, seeds: [0, 1], recipe: { epochs: 1 } }) { id kind subjectId } }`,
      { c: best.id, d: datasetId },
    );
    expect(retrains).toHaveLength(2);
    const retrained = await eventually(async () => {
      const { candidate } = await server.gql(`query($c: ID!) { candidate(id: $c) { retrainedRuns retrainedTop1Mean retrainedTop1Std runs { seed status summary } } }`, { c: best.id });
      return candidate.retrainedRuns === 2 ? candidate : undefined;
    });
    expect(retrained.retrainedTop1Mean).toBeCloseTo(0.85);
    expect(retrained.retrainedTop1Std).toBeCloseTo(Math.SQRT1_2 * 0.1);
    expect(retrained.runs.map((r: { seed: number }) => r.seed).sort()).toEqual([0, 1]);
    expect(
      await server.gqlError(`mutation($c: ID!, $d: ID!) { retrainCandidate(input: { candidateId: $c, datasetId: $d, seeds: [1, 1] }) { id } }`, { c: best.id, d: datasetId }),
    ).toMatchObject({ extensions: { field: 'input.seeds' } });
  });
});

/** A SLIM executor's reports for three widths of mbv2-fmnist, re-reporting one step as a resumed job would. */
async function reportTrajectory(job: JobSpec, ctx: JobContext, go: Promise<void>): Promise<unknown> {
  await go;
  const { trajectoryId } = job.payload as { trajectoryId: string };
  const options = { inputSize: 28, numClasses: 10 };
  const configs = [1, 0.75, 0.5].map((width) => {
    const channels = defaultChannels('mbv2-fmnist', width, options);
    const cost = profile('mbv2-fmnist', channels, options);
    return { channels: [...channels], macs: cost.macs, params: cost.params, accuracy: 0.9 - (1 - width) / 5 };
  });
  for (const [index, c] of configs.entries()) {
    const step = {
      index,
      unitIndex: index === 0 ? null : index,
      unitName: index === 0 ? null : `unit${index}`,
      channels: c.channels,
      macs: c.macs,
      params: c.params,
      predictedLatencyMs: null,
      score: c.accuracy,
      accuracy: c.accuracy,
      accuracyDrop: configs[0]!.accuracy - c.accuracy,
      proposals: index === 0 ? [] : [{ unitIndex: index, score: c.accuracy, accuracy: c.accuracy, cost: c.macs }],
    };
    await ctx.report({ type: 'slimmingStep', trajectoryId, step });
    if (index === 1) await ctx.report({ type: 'slimmingStep', trajectoryId, step });
  }
  await ctx.report({ type: 'candidate', trajectoryId, target: 8e6, channels: configs[1]!.channels, searchAccuracy: configs[1]!.accuracy, step: 1 });
  await ctx.report({ type: 'candidate', trajectoryId, target: 4e6, channels: configs[2]!.channels, searchAccuracy: configs[2]!.accuracy, step: 2 });
  await ctx.report({ type: 'evaluationStats', trajectoryId, evaluations: 20, cacheHits: 2, evalSeconds: 1.5 });
  return { steps: configs.length };
}
