import type { EntityManager, LockMode } from '@mikro-orm/core';
import { JobKind, JobState, RetrainInit, RunStatus } from '../../schema/enums';
import { Candidate, type Job, TrainingRun } from '../entities';
import { COUNTED_RUNS, storedFigures, top1BySeed } from '../services/retrained-top1';

const RUN_STATUS: Record<JobState, RunStatus> = {
  [JobState.QUEUED]: RunStatus.PENDING,
  [JobState.RUNNING]: RunStatus.RUNNING,
  [JobState.SUCCEEDED]: RunStatus.FINISHED,
  [JobState.FAILED]: RunStatus.FAILED,
  [JobState.CANCELLED]: RunStatus.CANCELLED,
};

/** Keeps a job's training run (status, times, backend) in step with the job, in the caller's transaction. */
export async function syncRunStatus(em: EntityManager, job: Job): Promise<void> {
  if (job.subjectType !== TrainingRun.name || !job.subjectId) return;
  const status = RUN_STATUS[job.state as JobState];
  const finishedAt = job.finishedAt;
  const running = job.state === JobState.RUNNING;
  // The run records what its latest attempt's executor trains on.
  await em.nativeUpdate(TrainingRun, { id: job.subjectId }, running ? { status, finishedAt, backend: job.backend } : { status, finishedAt });
  // A run's start is its first attempt's: later attempts keep it.
  if (running) await em.nativeUpdate(TrainingRun, { id: job.subjectId, startedAt: null }, { startedAt: job.startedAt });
}

/**
 * The leaderboard sorts on retrained top-1, so its mean, std and n live on the candidate; they
 * change when a from-scratch retraining succeeds (its run became FINISHED in this transaction).
 * `rowLock`: seeds finish at once in parallel transactions, and the candidate's row lock orders
 * them, so each aggregates after the previous one committed (else the last counts only itself).
 */
export async function refreshRetrainedFigures(em: EntityManager, job: Job, rowLock: { lockMode?: LockMode }): Promise<void> {
  if (job.kind !== JobKind.RETRAIN || job.state !== JobState.SUCCEEDED || job.subjectType !== TrainingRun.name || !job.subjectId) return;
  const run = await em.findOne(TrainingRun, job.subjectId);
  if (!run?.candidateId || run.init !== RetrainInit.SCRATCH) return;
  const candidate = await em.findOne(Candidate, run.candidateId, rowLock);
  if (!candidate) return;
  const runs = await em.find(TrainingRun, { candidateId: candidate.id, ...COUNTED_RUNS, init: RetrainInit.SCRATCH }, { refresh: true });
  Object.assign(candidate, storedFigures(top1BySeed(runs, RetrainInit.SCRATCH)));
  await em.flush();
}
