import type { EntityManager } from '@mikro-orm/core';
import { JobState, RunStatus } from '../../schema/enums';
import { type Job, TrainingRun } from '../entities';
import { publishJob, type EventBus } from '../events';
import { jobView, type JobView } from './job-view';

const RUN_STATUS: Record<JobState, RunStatus> = {
  [JobState.QUEUED]: RunStatus.PENDING,
  [JobState.RUNNING]: RunStatus.RUNNING,
  [JobState.SUCCEEDED]: RunStatus.FINISHED,
  [JobState.FAILED]: RunStatus.FAILED,
  [JobState.CANCELLED]: RunStatus.CANCELLED,
};

/** After a job changed state: keeps its training run in step with it, then publishes the job. */
export async function settleJobChange(em: EntityManager, bus: EventBus, job: Job): Promise<JobView> {
  if (job.subjectType === TrainingRun.name && job.subjectId) {
    const run = await em.findOne(TrainingRun, job.subjectId);
    if (run) {
      run.status = RUN_STATUS[job.state as JobState];
      if (job.state === JobState.RUNNING && !run.startedAt) run.startedAt = job.startedAt;
      run.finishedAt = job.finishedAt;
      await em.flush();
    }
  }
  const view = jobView(job);
  publishJob(bus, view);
  return view;
}
