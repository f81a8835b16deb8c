import { DATABASES } from '../support/databases';
import { seedProject, trainSupernet } from '../support/fixtures';
import { ScriptedPlugin } from '../support/plugins';
import { eventually, TestServer } from '../support/server';

interface Place {
  state: string;
  queuePosition: number | null;
  waitingFor: string | null;
  waitingReason: string | null;
}

describe.each(DATABASES)('a queued job says where it stands in the line on %s', (kind) => {
  let server: TestServer;
  // The worker prefers its trainer: every queued training or retraining starts before an export.
  const trainer = new ScriptedPlugin(['TRAIN_SUPERNET', 'RETRAIN']);
  const exporter = new ScriptedPlugin(['EXPORT'], undefined, 'scripted-export');

  beforeAll(async () => {
    server = await TestServer.start(kind, [trainer, exporter], undefined, { workerConcurrency: 1 });
  });

  afterAll(async () => {
    await server?.stop();
  });

  const place = async (id: string): Promise<Place> =>
    (await server.gql(`query($id: ID!) { job(id: $id) { state queuePosition waitingFor waitingReason } }`, { id })).job;

  it('counts the jobs its worker starts first, of every kind, and names what it waits for', async () => {
    const { datasetId, space } = await seedProject(server, 'line');
    const first = await trainSupernet(server, space.id, datasetId, 'first');
    const firstCtx = await trainer.whenStarted(first.id);
    await firstCtx.report({ type: 'checkpoint', runId: first.payload.runId, step: 1, artifact: await firstCtx.artifacts.put('CHECKPOINT', 'supernet', Buffer.from('w')) });
    trainer.finish(first.id);
    const blocking = await trainSupernet(server, space.id, datasetId, 'blocking');
    await trainer.whenStarted(blocking.id);

    const { importCandidate: candidate } = await server.gql(`mutation($s: ID!, $c: [Int!]!) { importCandidate(input: { searchSpaceId: $s, channels: $c }) { id } }`, {
      s: space.id,
      c: space.maxChannels,
    });
    const { exportCandidate: exportJob } = await server.gql(`mutation($c: ID!, $s: ID!) { exportCandidate(input: { candidateId: $c, supernetId: $s }) { id } }`, {
      c: candidate.id,
      s: first.payload.supernetId,
    });
    const { retrainCandidate: retrains } = await server.gql(
      `mutation($c: ID!, $d: ID!) { retrainCandidate(input: { candidateId: $c, datasetId: $d, seeds: [0, 1] }) { id } }`,
      { c: candidate.id, d: datasetId },
    );
    const { startSlimming: slim } = await server.gql(`mutation($s: ID!) { startSlimming(input: { supernetId: $s, targets: [1000000], evalBatchSize: 16 }) { id } }`, {
      s: first.payload.supernetId,
    });

    // The two retrainings are queued in one transaction; the line orders them by their rows, and
    // the worker must start them in the order the line shows.
    const lineOf = async (id: string) => (await place(id)).queuePosition;
    const retrainsInLine = (await lineOf(retrains[0].id)) === 1 ? retrains : [retrains[1], retrains[0]];
    // Queued before the retrainings, the export still waits for them: the trainer is asked first.
    expect(await place(exportJob.id)).toEqual({
      state: 'QUEUED',
      queuePosition: 3,
      waitingFor: '2 RETRAIN jobs queued before it',
      waitingReason: 'all 1 worker(s) that run EXPORT jobs are busy; 2 RETRAIN jobs queued before it',
    });
    expect(await place(retrainsInLine[0].id)).toMatchObject({ queuePosition: 1, waitingFor: 'a free slot: the worker that runs RETRAIN jobs is busy' });
    expect(await place(retrainsInLine[1].id)).toMatchObject({ queuePosition: 2, waitingFor: '1 RETRAIN job queued before it' });
    expect(await place(slim.id)).toMatchObject({ queuePosition: null, waitingFor: 'a worker that offers SLIM', waitingReason: expect.stringMatching(/^no online worker runs SLIM jobs/) });
    expect(await place(blocking.id)).toEqual({ state: 'RUNNING', queuePosition: null, waitingFor: null, waitingReason: null });

    trainer.finish(blocking.id);
    await trainer.whenStarted(retrainsInLine[0].id);
    expect(await place(exportJob.id)).toMatchObject({ queuePosition: 2, waitingFor: '1 RETRAIN job queued before it' });
    trainer.finish(retrainsInLine[0].id);
    await trainer.whenStarted(retrainsInLine[1].id);
    expect(await place(exportJob.id)).toMatchObject({ queuePosition: 1, waitingFor: 'a free slot: the worker that runs EXPORT jobs is busy' });
    trainer.finish(retrainsInLine[1].id);
    await exporter.whenStarted(exportJob.id);
    exporter.finish(exportJob.id);
    await eventually(async () => ((await place(exportJob.id)).state === 'SUCCEEDED' ? true : undefined));
  });
});
