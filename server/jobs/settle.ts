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

/** Keeps a job's training run in step with the job, in the caller's transaction, in one statement. */
export async function syncRunStatus(em: EntityManager, job: Job): Promise<void> {
  if (job.subjectType !== TrainingRun.name || !job.subjectId) return;
  const status = RUN_STATUS[job.state as JobState];
  const finishedAt = job.finishedAt;
  await em.nativeUpdate(TrainingRun, { id: job.subjectId }, { status, finishedAt });
  // A run's start is its first attempt's: later attempts keep it.
  if (job.state === JobState.RUNNING) await em.nativeUpdate(TrainingRun, { id: job.subjectId, startedAt: null }, { startedAt: job.startedAt });
}
