import { meanInterval, type Interval } from '../../autoslim';
import { RetrainInit, RunKind, RunStatus } from '../../schema/enums';
import type { Candidate, TrainingRun } from '../entities';
import { protocolOf, type RunProtocol } from './run-protocol';

/** The runs that count towards a candidate's retrained figures, as a query. */
export const COUNTED_RUNS = { kind: RunKind.RETRAIN, status: RunStatus.FINISHED } as const;

/**
 * The protocol a candidate's figures from `init` follow: that of its run of `init` that finished
 * last, so a retraining with a new recipe or dataset starts a new series rather than mixing into
 * the old one. Null when no run of `init` has finished.
 */
export function latestProtocol(runs: readonly TrainingRun[], init: RetrainInit): RunProtocol | null {
  const latest = counted(runs, init).reduce<TrainingRun | null>((held, run) => (!held || finishedBefore(held, run) ? run : held), null);
  return latest && protocolOf(latest);
}

/**
 * Test top-1 per seed of a candidate's finished retrainings that started from `init` and follow
 * `protocol` (by default the latest one, see latestProtocol). When one seed was retrained more
 * than once, the run that finished last counts: a rerun replaces its seed's evidence rather than
 * adding a second, correlated value to the interval.
 */
export function top1BySeed(runs: readonly TrainingRun[], init: RetrainInit, protocol = latestProtocol(runs, init)): Map<number, number> {
  if (!protocol) return new Map();
  const latest = new Map<number, TrainingRun>();
  for (const run of counted(runs, init)) {
    if (protocolOf(run).key !== protocol.key) continue;
    const held = latest.get(run.seed);
    if (!held || finishedBefore(held, run)) latest.set(run.seed, run);
  }
  return new Map([...latest].map(([seed, run]) => [seed, run.summary!.top1!]));
}

/** Mean top-1 over seeds with its 95% t-interval; null when no seed has finished. */
export function top1Interval(bySeed: ReadonlyMap<number, number>): Interval | null {
  return bySeed.size === 0 ? null : meanInterval([...bySeed.values()]);
}

/** The columns the leaderboard sorts on: from-scratch retrainings of the latest protocol only, one value per seed. */
export function storedFigures(bySeed: ReadonlyMap<number, number>): Pick<Candidate, 'retrainedRuns' | 'retrainedTop1Mean' | 'retrainedTop1Std'> {
  const values = [...bySeed.values()];
  const n = values.length;
  const mean = n === 0 ? null : values.reduce((s, v) => s + v, 0) / n;
  const std = mean === null || n < 2 ? null : Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  return { retrainedRuns: n, retrainedTop1Mean: mean, retrainedTop1Std: std };
}

/** The finished retrainings from `init` that have a test top-1. */
function counted(runs: readonly TrainingRun[], init: RetrainInit): TrainingRun[] {
  return runs.filter((run) => {
    const top1 = run.summary?.top1;
    return run.kind === COUNTED_RUNS.kind && run.status === COUNTED_RUNS.status && run.init === init && typeof top1 === 'number' && Number.isFinite(top1);
  });
}

/** Whether `a` finished before `b`; creation time, then id, settle ties so the choice is stable. */
function finishedBefore(a: TrainingRun, b: TrainingRun): boolean {
  const key = (run: TrainingRun) => [run.finishedAt?.getTime() ?? 0, run.createdAt.getTime()] as const;
  const [fa, ca] = key(a);
  const [fb, cb] = key(b);
  if (fa !== fb) return fa < fb;
  if (ca !== cb) return ca < cb;
  return a.id < b.id;
}
