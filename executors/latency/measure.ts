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

/** Anything that times one inference in ms: a TimedSession. */
export type Timed = Pick<TimedSession, 'time'>;

/** A measurement against the speed reference (reference.ts). */
export interface Relative {
  /** Median over runs of the subject's time (less the baseline's) divided by the reference's. */
  readonly ratio: number;
  /** Median of the reference's runs during this measurement. */
  readonly referenceMs: number;
  /** Median of the subject's own time (less the baseline's) in ms, as the machine ran then. */
  readonly rawMs: number;
}

/**
 * The latency `subject` takes (or adds over `baseline`) relative to `reference`: they run in turn,
 * the order rotating so no session always follows another, and every turn gives one ratio, so a
 * drift of the machine's speed slows both sides of it alike. Measured again while the subject's
 * own times over the reference's spread more than the policy allows.
 */
export async function measureRelative(
  subject: Timed,
  baseline: Timed | null,
  reference: Timed,
  policy: MeasurePolicy,
  signal?: AbortSignal,
): Promise<Relative> {
  const sessions = baseline ? [subject, baseline, reference] : [subject, reference];
  const turn = async (i: number) => {
    const times = new Array<number>(sessions.length);
    for (let k = 0; k < sessions.length; k++) {
      const at = (i + k) % sessions.length;
      times[at] = await sessions[at].time();
    }
    return { own: times[0] - (baseline ? times[1] : 0), subject: times[0], reference: times[sessions.length - 1] };
  };
  let best: (Relative & { spread: number }) | null = null;
  for (let attempt = 0; attempt < policy.maxAttempts; attempt++) {
    signal?.throwIfAborted();
    for (let i = 0; i < policy.warmupRuns; i++) await turn(i);
    const turns = [];
    for (let i = 0; i < policy.timedRuns; i++) turns.push(await turn(i));
    const candidate = {
      ratio: summarize(turns.map((t) => t.own / t.reference)).median,
      referenceMs: summarize(turns.map((t) => t.reference)).median,
      rawMs: summarize(turns.map((t) => t.own)).median,
      spread: spread(summarize(turns.map((t) => t.subject / t.reference))),
    };
    if (best === null || candidate.spread < best.spread) best = candidate;
    if (candidate.spread <= policy.spreadLimit) break;
  }
  const { spread: _spread, ...relative } = best!;
  return relative;
}

function spread(stats: TimingStats): number {
  return stats.p10 > 0 ? stats.p90 / stats.p10 : Infinity;
}
