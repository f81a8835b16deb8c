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
  /** Median over turns of the subject's time (less the baseline's) divided by the reference's. */
  readonly ratio: number;
  /** Median of the reference's runs during this measurement. */
  readonly referenceMs: number;
  /** Median of the subject's own time (less the baseline's) in ms, as the machine ran then. */
  readonly rawMs: number;
}

/** Timed runs of each session per turn, after one untimed run that brings its weights back into cache. */
export const BURST_RUNS = 5;

/**
 * The latency `subject` takes (or adds over `baseline`) relative to `reference`. They run in turns,
 * each session in a burst of back-to-back runs whose first is not timed, and every turn gives one
 * ratio (the subject's median over the reference's), so a drift of the machine's speed slows both
 * sides of it alike. Bursts, not single runs in turn: a session run right after another finds its
 * weights evicted, and with single runs in a rotating order half the turns timed the subject
 * evicted and the reference warm and half the reverse; the median then fell anywhere between the
 * two (7% apart at 28×28, 15% at 224×224 on an AMD EPYC) from one measurement to the next. Warm
 * runs are also what measureLatency times. Measured again while the subject's runs over their
 * turn's reference spread more than the policy allows.
 */
export async function measureRelative(
  subject: Timed,
  baseline: Timed | null,
  reference: Timed,
  policy: MeasurePolicy,
  signal?: AbortSignal,
): Promise<Relative> {
  const burst = async (session: Timed) => {
    await session.time();
    const times: number[] = [];
    for (let i = 0; i < BURST_RUNS; i++) times.push(await session.time());
    return times;
  };
  const turns = Math.ceil(policy.timedRuns / BURST_RUNS);
  let best: (Relative & { spread: number }) | null = null;
  for (let attempt = 0; attempt < policy.maxAttempts; attempt++) {
    signal?.throwIfAborted();
    for (let i = 0; i < policy.warmupRuns; i++) {
      await subject.time();
      await baseline?.time();
    }
    const own: number[] = [];
    const ratios: number[] = [];
    const references: number[] = [];
    const relativeRuns: number[] = [];
    for (let t = 0; t < turns; t++) {
      const subjectTimes = await burst(subject);
      const baselineMs = baseline ? summarize(await burst(baseline)).median : 0;
      const referenceTimes = await burst(reference);
      const referenceMs = summarize(referenceTimes).median;
      own.push(summarize(subjectTimes).median - baselineMs);
      ratios.push(own[t] / referenceMs);
      references.push(...referenceTimes);
      relativeRuns.push(...subjectTimes.map((ms) => ms / referenceMs));
    }
    const candidate = {
      ratio: summarize(ratios).median,
      referenceMs: summarize(references).median,
      rawMs: summarize(own).median,
      spread: spread(summarize(relativeRuns)),
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
