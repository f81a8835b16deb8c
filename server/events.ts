import { createPubSub } from '@graphql-yoga/subscription';
import type { MetricSample } from '../executors/contract';
import type { JobView } from './jobs/job-view';

/** A step of a slimming trajectory as subscribers receive it. */
export interface SlimmingStepEvent {
  readonly trajectoryId: string;
  readonly stepId: string;
}

export interface TrainingProgressEvent {
  readonly runId: string;
  readonly points: readonly MetricSample[];
}

/**
 * In-process pub/sub. Each topic is keyed (by job, project, run or trajectory id) so a subscriber
 * only receives what it asked for. Payloads are plain data, so a LISTEN/NOTIFY fan-out across
 * server replicas can carry them unchanged.
 */
export type EventBus = ReturnType<typeof createEventBus>;

export function createEventBus() {
  return createPubSub<{
    JOB_UPDATED: [key: string, payload: JobView];
    TRAINING_PROGRESS: [runId: string, payload: TrainingProgressEvent];
    SLIMMING_PROGRESS: [trajectoryId: string, payload: SlimmingStepEvent];
    /** Work may be claimable: a job was queued or requeued. Wakes long-polling claims. */
    WORK: [payload: { readonly jobId: string }];
  }>();
}

/** Every job event goes to its own key, its project's key and the all-jobs key. */
export const ALL_JOBS = '*';

export function publishJob(bus: EventBus, job: JobView): void {
  bus.publish('JOB_UPDATED', job.id, job);
  bus.publish('JOB_UPDATED', job.projectId, job);
  bus.publish('JOB_UPDATED', ALL_JOBS, job);
}
