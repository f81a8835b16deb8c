import type { Job } from '../entities';
import type { JobKind } from '../../executors/contract';
import type { JobState } from '../../schema/enums';

/** A job as clients see it: plain data, safe to publish and to serialize. */
export interface JobView {
  readonly id: string;
  readonly projectId: string;
  readonly kind: JobKind;
  readonly state: JobState;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly progress: number;
  readonly progressMessage: string | null;
  readonly error: string | null;
  readonly cancelRequested: boolean;
  readonly executorName: string | null;
  readonly backend: string | null;
  readonly provider: string | null;
  readonly device: string | null;
  readonly executorNote: string | null;
  readonly payload: Record<string, unknown>;
  readonly result: unknown;
  readonly subjectType: string | null;
  readonly subjectId: string | null;
  readonly deviceFingerprint: string | null;
  readonly workerId: string | null;
  readonly leaseExpiresAt: Date | null;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  readonly heartbeatAt: Date | null;
}

export function jobView(job: Job): JobView {
  return {
    id: job.id,
    projectId: job.project.id,
    kind: job.kind,
    state: job.state,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    progress: job.progress,
    progressMessage: job.progressMessage,
    error: job.error,
    cancelRequested: job.cancelRequested,
    executorName: job.executorName,
    backend: job.backend,
    provider: job.provider,
    device: job.device,
    executorNote: job.executorNote,
    payload: job.payload,
    result: job.result,
    subjectType: job.subjectType,
    subjectId: job.subjectId,
    deviceFingerprint: job.deviceFingerprint,
    workerId: job.workerId,
    leaseExpiresAt: job.leaseExpiresAt,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    heartbeatAt: job.heartbeatAt,
  };
}
