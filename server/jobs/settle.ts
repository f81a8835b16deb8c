import type { EntityManager } from '@mikro-orm/core';
import { JobState, RunStatus } from '../../schema/enums';
import { type Job, TrainingRun } from '../entities';

const RUN_STATUS: Record<JobState, RunStatus> = {
  [JobState.QUEUED]: RunStatus.PENDING,
  [JobState.RUNNING]: RunStatus.RUNNING,
  [JobState.SUCCEEDED]: RunStatus.FINISHED,
  [JobState.FAILED]: RunStatus.FAILED,
  [JobState.CANCELLED]: RunStatus.CANCELLED,
};

/** Keeps a job's training run in step with the job, in the caller's transaction. */
export async function syncRunStatus(em: EntityManager, job: Job): Promise<void> {
  if (job.subjectType !== TrainingRun.name || !job.subjectId) return;
  const run = await em.findOne(TrainingRun, job.subjectId);
  if (!run) return;
  run.status = RUN_STATUS[job.state as JobState];
  if (job.state === JobState.RUNNING && !run.startedAt) run.startedAt = job.startedAt;
  run.finishedAt = job.finishedAt;
}
