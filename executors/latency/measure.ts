import type { LatencyStats } from '../contract';
import { summarize, type TimingStats } from './stats';
import type { TimedSession } from './timed-session';

/** How a latency is measured (EXECUTORS.md, Latency: nn-Meter's protocol on a noisy machine). */
export interface MeasurePolicy {
  readonly warmupRuns: number;
  readonly timedRuns: number;
  /** Measurements at most, the first included. */
  readonly maxAttempts: number;
  /** p90 / p10 above this says another process got in the way: measure again. */
  readonly spreadLimit: number;
}

export const MIN_WARMUP_RUNS = 10;
export const MIN_TIMED_RUNS = 50;

export const DEFAULT_POLICY: MeasurePolicy = { warmupRuns: MIN_WARMUP_RUNS, timedRuns: MIN_TIMED_RUNS, maxAttempts: 3, spreadLimit: 1.5 };

/** Times one model: warm-up, timed runs, and up to maxAttempts measurements while the spread is too wide. */
export async function measureLatency(session: TimedSession, policy: MeasurePolicy, signal?: AbortSignal): Promise<LatencyStats> {
  let best: TimingStats | null = null;
  let attempts = 0;
  while (attempts < policy.maxAttempts) {
    signal?.throwIfAborted();
    attempts++;
    for (let i = 0; i < policy.warmupRuns; i++) await session.time();
    const samples: number[] = [];
    for (let i = 0; i < policy.timedRuns; i++) samples.push(await session.time());
    const stats = summarize(samples);
    if (best === null || spread(stats) < spread(best)) best = stats;
    if (spread(stats) <= policy.spreadLimit) break;
  }
  return {
    medianMs: best!.median,
    p10Ms: best!.p10,
    p90Ms: best!.p90,
    meanMs: best!.mean,
    stdMs: best!.std,
    warmupRuns: policy.warmupRuns,
    timedRuns: policy.timedRuns,
    attempts,
    noisy: spread(best!) > policy.spreadLimit,
  };
}

/**
 * The latency `subject` adds over `baseline`: the two run alternately and every pair gives one
 * difference, so a slow spell of the machine hits both sides of a pair instead of one model only.
 * The spread test looks at the subject's own times. Returns the median difference in ms.
 */
export async function measureDifference(
  subject: TimedSession,
  baseline: TimedSession,
  policy: MeasurePolicy,
  signal?: AbortSignal,
): Promise<number> {
  let best: { diff: number; spread: number } | null = null;
  for (let attempt = 0; attempt < policy.maxAttempts; attempt++) {
    signal?.throwIfAborted();
    for (let i = 0; i < policy.warmupRuns; i++) {
      await subject.time();
      await baseline.time();
    }
    const differences: number[] = [];
    const own: number[] = [];
    for (let i = 0; i < policy.timedRuns; i++) {
      // Alternating which runs first cancels what the first run of a pair pays for the second.
      let s: number;
      let b: number;
      if (i % 2 === 0) {
        s = await subject.time();
        b = await baseline.time();
      } else {
        b = await baseline.time();
        s = await subject.time();
      }
      differences.push(s - b);
      own.push(s);
    }
    const candidate = { diff: summarize(differences).median, spread: spread(summarize(own)) };
    if (best === null || candidate.spread < best.spread) best = candidate;
    if (candidate.spread <= policy.spreadLimit) break;
  }
  return best!.diff;
}

function spread(stats: TimingStats): number {
  return stats.p10 > 0 ? stats.p90 / stats.p10 : Infinity;
}
