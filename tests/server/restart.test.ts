import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../server/db/orm';
import { Job } from '../../server/entities';
import { ChildServer } from '../support/child';
import { DATABASES, scratchDatabase } from '../support/databases';
import { seedProject, trainSupernet } from '../support/fixtures';
import { ScriptedPlugin } from '../support/plugins';
import { TestServer, eventually } from '../support/server';

describe.each(DATABASES)('restart after a killed server on %s', (kind) => {
  it('requeues a job left RUNNING, which resumes from its saved state; one out of attempts is FAILED', async () => {
    const scratch = await scratchDatabase(kind);
    const dataDir = mkdtempSync(join(tmpdir(), 'slimlab-restart-'));
    const child = await ChildServer.start(scratch.target, dataDir, 'stuck');
    const { datasetId, space } = await seedProject(child, 'restart');
    const resumable = await trainSupernet(child, space.id, datasetId, 'resumable');
    const exhausted = await trainSupernet(child, space.id, datasetId, 'exhausted');
    for (const job of [resumable, exhausted]) {
      await eventually(async () => {
        const { job: j } = await child.gql(`query($id: ID!) { job(id: $id) { state progress } }`, { id: job.id });
        return j.state === 'RUNNING' && j.progress === 0.25 ? true : undefined;
      });
    }
    const orm = (await openDatabase(scratch.target)).orm;
    await orm.em.fork().nativeUpdate(Job, { id: exhausted.id }, { maxAttempts: 1 });
    await orm.close(true);
    await child.kill();

    const trainer = new ScriptedPlugin(['TRAIN_SUPERNET']);
    const server = await TestServer.start(kind, [trainer], { database: scratch.target, dataDir });
    try {
      await trainer.whenStarted(resumable.id, 2);
      const resumed = trainer.runs.find((r) => r.id === resumable.id)!;
      expect(resumed).toMatchObject({ attempt: 2, resumeState: { epoch: 1 } });
      trainer.finish(resumable.id, { resumed: true }, 2);
      const done = await eventually(async () => {
        const { job } = await server.gql(`query($id: ID!) { job(id: $id) { state attempts result } }`, { id: resumable.id });
        return job.state === 'SUCCEEDED' ? job : undefined;
      });
      expect(done).toEqual({ state: 'SUCCEEDED', attempts: 2, result: { resumed: true } });

      const { job: failed } = await server.gql(`query($id: ID!) { job(id: $id) { state attempts error finishedAt } }`, { id: exhausted.id });
      expect(failed).toMatchObject({ state: 'FAILED', attempts: 1 });
      expect(failed.error).toMatch(/stopped while running it, and all 1 attempts are used/);
      expect(trainer.runs.some((r) => r.id === exhausted.id)).toBe(false);
      const { supernet } = await server.gql(`query($id: ID!) { supernet(id: $id) { run { status } } }`, { id: exhausted.payload.supernetId });
      expect(supernet.run.status).toBe('FAILED');
    } finally {
      await server.stop({ keepData: true });
      await scratch.drop();
    }
  });
});
