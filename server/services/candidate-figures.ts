import { pairedDifference, verdictOf, type Interval, type Verdict as VerdictName } from '../../autoslim';
import { CandidateSource, CostConstraint, CostMetric, RetrainInit, Verdict } from '../../schema/enums';
import { BatchLoader } from '../batch-loader';
import type { Orm } from '../db/orm';
import { Candidate, SlimmingTrajectory, TrainingRun } from '../entities';
import { COUNTED_RUNS, latestProtocol, top1BySeed, top1Interval } from './retrained-top1';
import type { RunProtocol } from './run-protocol';

/** An AutoSlim candidate against the uniform baseline of its budget, paired by seed. */
export interface BaselineComparison {
  readonly baseline: Candidate;
  /** What the baseline is matched on: the trajectory's own cost under a MACS or PARAMS trajectory, else MACs. */
  readonly metric: CostMetric;
  /** In `metric`: the candidate's target under a MACS or PARAMS trajectory, else its own MACs. */
  readonly budget: number;
  /**
   * The protocol both sides are compared under: that of the candidate's from-scratch retraining
   * that finished last; null before one has.
   */
  readonly protocol: RunProtocol | null;
  /** The candidate's from-scratch top-1 minus the baseline's over the seeds both have under `protocol`; null when none is shared. */
  readonly difference: Interval | null;
  readonly verdict: Verdict;
}

const VERDICTS: Record<VerdictName, Verdict> = {
  better: Verdict.BETTER,
  worse: Verdict.WORSE,
  indistinguishable: Verdict.INDISTINGUISHABLE,
  insufficient: Verdict.INSUFFICIENT,
};

/**
 * The leaderboard's figures with their uncertainty, for one caller's request: every candidate of
 * a page asks at once, and each kind of figure is one query for the whole page.
 */
export class CandidateFigures {
  private readonly runs: BatchLoader<string, TrainingRun[]>;
  private readonly comparisons: BatchLoader<Candidate, BaselineComparison | null>;

  constructor(private readonly orm: Orm) {
    this.runs = new BatchLoader((ids) => this.fetchRuns(ids), []);
    this.comparisons = new BatchLoader((candidates) => this.fetchComparisons(candidates), null);
  }

  /** Mean test top-1 over seeds of the finished retrainings that started from `init`, with its t-interval. */
  async top1(candidate: Candidate, init: RetrainInit): Promise<Interval | null> {
    return top1Interval(top1BySeed(await this.runs.load(candidate.id), init));
  }

  comparison(candidate: Candidate): Promise<BaselineComparison | null> {
    return candidate.source === CandidateSource.AUTOSLIM ? this.comparisons.load(candidate) : Promise.resolve(null);
  }

  private async fetchRuns(ids: readonly string[]): Promise<Map<string, TrainingRun[]>> {
    const runs = await this.orm.em.fork().find(TrainingRun, { candidateId: { $in: [...ids] }, ...COUNTED_RUNS });
    return groupBy(runs, (run) => run.candidateId!);
  }

  /** Three queries for any number of candidates: their trajectories, the uniform candidates of their spaces, and the runs of both. */
  private async fetchComparisons(candidates: readonly Candidate[]): Promise<Map<Candidate, BaselineComparison | null>> {
    const em = this.orm.em.fork();
    const trajectoryIds = unique(candidates.flatMap((c) => (c.trajectory ? [c.trajectory.id] : [])));
    const trajectories = new Map((await em.find(SlimmingTrajectory, { id: { $in: trajectoryIds } })).map((t) => [t.id, t]));
    const uniforms = await em.find(
      Candidate,
      { searchSpace: { $in: unique(candidates.map((c) => c.searchSpace.id)) }, source: CandidateSource.UNIFORM },
      { orderBy: { id: 'asc' } },
    );
    const matched = candidates.map((candidate) => {
      const { metric, budget } = budgetOf(candidate, candidate.trajectory ? trajectories.get(candidate.trajectory.id) : undefined);
      const cost = (c: Candidate) => (metric === CostMetric.PARAMS ? c.params : c.macs);
      // The closest to the budget from below; ordered by id, the first of equal cost wins.
      const baseline = uniforms
        .filter((u) => u.searchSpace.id === candidate.searchSpace.id && cost(u) <= budget)
        .reduce<Candidate | null>((best, u) => (!best || cost(u) > cost(best) ? u : best), null);
      return { candidate, metric, budget, baseline };
    });
    const compared = matched.flatMap((m) => (m.baseline ? [m.candidate.id, m.baseline.id] : []));
    const runs = groupBy(
      await em.find(TrainingRun, { candidateId: { $in: unique(compared) }, ...COUNTED_RUNS, init: RetrainInit.SCRATCH }),
      (run) => run.candidateId!,
    );
    const bySeed = (id: string, protocol: RunProtocol) => top1BySeed(runs.get(id) ?? [], RetrainInit.SCRATCH, protocol);
    return new Map(
      matched.map(({ candidate, metric, budget, baseline }) => {
        if (!baseline) return [candidate, null];
        const protocol = latestProtocol(runs.get(candidate.id) ?? [], RetrainInit.SCRATCH);
        const difference = protocol && pairedDifference(bySeed(candidate.id, protocol), bySeed(baseline.id, protocol));
        return [candidate, { baseline, metric, budget, protocol, difference, verdict: difference ? VERDICTS[verdictOf(difference)] : Verdict.INSUFFICIENT }];
      }),
    );
  }
}

/**
 * The budget a candidate's baseline must fit: its target in the trajectory's own cost when that is
 * one a uniform width has (MACS, PARAMS; createUniformCandidates matches the same way), else its own
 * MACs (a LATENCY trajectory, or no target).
 */
function budgetOf(candidate: Candidate, trajectory: SlimmingTrajectory | undefined): { metric: CostMetric; budget: number } {
  if (candidate.target !== null && trajectory?.constraint === CostConstraint.MACS) return { metric: CostMetric.MACS, budget: candidate.target };
  if (candidate.target !== null && trajectory?.constraint === CostConstraint.PARAMS) return { metric: CostMetric.PARAMS, budget: candidate.target };
  return { metric: CostMetric.MACS, budget: candidate.macs };
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

function groupBy<T>(values: readonly T[], key: (value: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const value of values) {
    const k = key(value);
    const group = groups.get(k);
    if (group) group.push(value);
    else groups.set(k, [value]);
  }
  return groups;
}
