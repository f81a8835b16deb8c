import type { JobKind } from '../../executors/contract';

/** A queued job, as far as the claim order needs it. */
export interface WaitingJob {
  readonly id: string;
  readonly kind: JobKind;
  readonly deviceFingerprint: string | null;
  /** Its place in the order the queue hands jobs out (JobQueue.lineOrder), 0 first. */
  readonly turn: number;
}

/** An executor of a worker, as far as claiming needs it. */
export interface ClaimingExecutor {
  readonly kinds: readonly JobKind[];
  readonly latencyFingerprint: string | null;
}

function claims(executor: ClaimingExecutor, job: WaitingJob): boolean {
  return executor.kinds.includes(job.kind) && (job.deviceFingerprint === null || job.deviceFingerprint === executor.latencyFingerprint);
}


/**
 * The queued jobs one worker would start before `job`, or null when none of its executors runs it.
 * A worker asks its executors in preference order (ledger.claim) and each takes the job whose turn comes first, so
 * everything an earlier executor runs goes first, then the older jobs of `job`'s executor.
 */
export function jobsAhead(job: WaitingJob, executors: readonly ClaimingExecutor[], queued: readonly WaitingJob[]): WaitingJob[] | null {
  const own = executors.findIndex((e) => claims(e, job));
  if (own < 0) return null;
  const earlier = executors.slice(0, own);
  return queued.filter((other) => other.id !== job.id && (earlier.some((e) => claims(e, other)) || (claims(executors[own]!, other) && other.turn < job.turn)));
}

/** "2 RETRAIN jobs and 1 EVALUATE job": the kinds ahead, most numerous first. */
export function describeJobs(jobs: readonly WaitingJob[]): string {
  const counts = new Map<JobKind, number>();
  for (const job of jobs) counts.set(job.kind, (counts.get(job.kind) ?? 0) + 1);
  const parts = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([kind, n]) => `${n} ${kind} job${n === 1 ? '' : 's'}`);
  return parts.length <= 1 ? (parts[0] ?? 'no job') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}
