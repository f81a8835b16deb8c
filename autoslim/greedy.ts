import { ChannelList } from './channels';
import { AutoSlimError } from './errors';
import { uniformConfig } from './sampling';
import { UnitTable, channelsFromUnitWidths } from './units';

/**
 * Greedy slimming (AUTOSLIM.md §1.3) as a pure state machine. It never measures accuracy itself:
 * `proposals(state)` lists the configurations to evaluate, the caller scores all of them at once
 * (so an executor can batch and cache), and `advance` keeps the best one. The state is plain JSON,
 * so a trajectory interrupted between steps resumes exactly from `JSON.parse(JSON.stringify(state))`.
 *
 * Step 0 evaluates the widest configuration (the baseline for accuracy drops); every later step
 * proposes, for each unit, the current configuration with one group removed from that unit.
 */

/**
 * 'accuracy': the proposal with the highest accuracy wins (the reference criterion).
 * 'accuracyDropPerCost': the lowest accuracy drop per unit of cost saved, relative to the current
 * configuration; proposals that save no cost are then not proposed at all.
 */
export type Scoring = 'accuracy' | 'accuracyDropPerCost';

/**
 * Equal scores go to the lowest unit index ('unitIndex', the reference rule), or first to the
 * lowest loss ('loss'; proposals without a loss rank after those with one), then the lowest index.
 */
export type TieBreak = 'unitIndex' | 'loss';

export interface GreedyOptions {
  /** Budgets in the unit of the cost function; each one met yields a result. */
  readonly targets: readonly number[];
  readonly scoring?: Scoring;
  readonly tieBreak?: TieBreak;
  /**
   * No unit is slimmed below this fraction of its maximum width (0, the default, allows every
   * choice): a very thin layer anywhere wrecks a network (BCNetV2 bounds the minimum width).
   */
  readonly minWidthFraction?: number;
}

/** The cost of a configuration: MACs, params, latency… Must be deterministic. */
export type CostFn = (channels: ChannelList) => number;

export interface Score {
  readonly accuracy: number;
  readonly loss?: number;
  /**
   * Scored only by a cheaper screening (e.g. a smaller batch) that ruled the proposal out: its
   * accuracy is the screening's, and it cannot win the step. At least one score must be unscreened.
   */
  readonly screenedOut?: boolean;
}

export interface UnitRef {
  readonly index: number;
  readonly name: string;
}

export interface Proposal {
  /** The unit that lost one group; null for the widest configuration of step 0. */
  readonly unit: UnitRef | null;
  /** One width per unit. */
  readonly widths: readonly number[];
  readonly channels: ChannelList;
  readonly cost: number;
}

/** A proposal of steps ≥ 1, which always slims a unit. */
export interface UnitProposal extends Proposal {
  readonly unit: UnitRef;
}

export interface EvaluatedConfig {
  readonly widths: readonly number[];
  readonly channels: ChannelList;
  readonly cost: number;
  readonly accuracy: number;
  readonly loss?: number;
}

/** The configuration kept when the walk first met a target. */
export interface TargetResult extends EvaluatedConfig {
  readonly target: number;
  readonly step: number;
}

export interface ProposalOutcome {
  readonly unit: UnitRef;
  readonly cost: number;
  readonly accuracy: number;
  readonly loss?: number;
  /** Higher is better: the accuracy, or minus the accuracy drop per unit of cost saved. */
  readonly score: number;
  /** Present (true) when a screening ruled this proposal out; see Score.screenedOut. */
  readonly screenedOut?: true;
}

export interface StepRecord extends EvaluatedConfig {
  readonly step: number;
  /** The unit slimmed in this step; null for step 0 (the widest configuration). */
  readonly unit: UnitRef | null;
  /** The winning proposal's score; null for step 0, which has nothing to compare. */
  readonly score: number | null;
  /** Accuracy of the widest configuration minus this one's. */
  readonly accuracyDrop: number;
  readonly proposals: readonly ProposalOutcome[];
  /** Targets this configuration is the first to meet (cost ≤ target), largest first. */
  readonly targetsCrossed: readonly number[];
}

/** 'all-targets-met': the cost went below the smallest target; 'nothing-to-remove': every unit is at its minimum. */
export type StopReason = 'all-targets-met' | 'nothing-to-remove';

interface StateCommon {
  readonly table: UnitTable;
  readonly scoring: Scoring;
  readonly tieBreak: TieBreak;
  /** Targets not met yet, largest first. */
  readonly remainingTargets: readonly number[];
  /** Per unit, the narrowest width the walk may reach; absent in states saved before floors existed. */
  readonly floors?: readonly number[];
  readonly results: readonly TargetResult[];
  /** Index of the next step record. */
  readonly step: number;
}

export type GreedyState =
  | (StateCommon & { readonly phase: 'start'; readonly pending: readonly Proposal[] })
  | (StateCommon & {
      readonly phase: 'slimming';
      readonly baseline: EvaluatedConfig;
      readonly current: EvaluatedConfig;
      readonly pending: readonly UnitProposal[];
    })
  | (StateCommon & {
      readonly phase: 'done';
      readonly reason: StopReason;
      readonly baseline: EvaluatedConfig;
      readonly current: EvaluatedConfig;
    });

export type FinishedState = Extract<GreedyState, { phase: 'done' }>;

export function startSlimming(table: UnitTable, options: GreedyOptions, costOf: CostFn): GreedyState {
  const targets = checkedTargets(options.targets);
  const floors = unitFloors(table, options.minWidthFraction ?? 0);
  const widest = uniformConfig(table, 1);
  const widths = table.units.map((u) => u.max);
  return {
    table,
    scoring: options.scoring ?? 'accuracy',
    tieBreak: options.tieBreak ?? 'unitIndex',
    remainingTargets: targets,
    floors,
    results: [],
    step: 0,
    phase: 'start',
    pending: [{ unit: null, widths, channels: widest, cost: checkedCost(costOf(widest)) }],
  };
}

/** The configurations to evaluate next, in unit order; empty once the walk is done. */
export function proposals(state: GreedyState): readonly Proposal[] {
  return state.phase === 'done' ? [] : state.pending;
}

/** Takes one score per proposal (same order) and moves one step. */
export function advance(
  state: GreedyState,
  scores: readonly Score[],
  costOf: CostFn,
): { state: GreedyState; record: StepRecord } {
  if (state.phase === 'done') throw new AutoSlimError('state', 'not-done', `the walk already stopped (${state.reason})`);
  checkScores(scores, state.pending.length);

  const { chosen, unit, score, outcomes } = select(state, scores);
  const baseline = state.phase === 'start' ? chosen : state.baseline;

  const targetsCrossed = state.remainingTargets.filter((t) => chosen.cost <= t);
  const remainingTargets = state.remainingTargets.filter((t) => chosen.cost > t);
  const results = [...state.results, ...targetsCrossed.map((target) => ({ target, step: state.step, ...chosen }))];
  const record: StepRecord = {
    step: state.step,
    unit,
    score,
    ...chosen,
    accuracyDrop: baseline.accuracy - chosen.accuracy,
    proposals: outcomes,
    targetsCrossed,
  };

  const common = { ...stateCommon(state), remainingTargets, results, step: state.step + 1, baseline, current: chosen };
  if (remainingTargets.length === 0) return { state: { ...common, phase: 'done', reason: 'all-targets-met' }, record };
  const next = nextProposals(state.table, state.floors, chosen, state.scoring, costOf);
  if (next.length === 0) return { state: { ...common, phase: 'done', reason: 'nothing-to-remove' }, record };
  return { state: { ...common, phase: 'slimming', pending: next }, record };
}

interface Selection {
  readonly chosen: EvaluatedConfig;
  readonly unit: UnitRef | null;
  readonly score: number | null;
  readonly outcomes: readonly ProposalOutcome[];
}

function select(state: Exclude<GreedyState, FinishedState>, scores: readonly Score[]): Selection {
  if (state.phase === 'start') return { chosen: evaluated(state.pending[0], scores[0]), unit: null, score: null, outcomes: [] };
  const outcomes = state.pending.map((p, i) => ({
    unit: p.unit,
    cost: p.cost,
    accuracy: scores[i].accuracy,
    ...lossField(scores[i]),
    score: scoreOf(state.scoring, state.current, p.cost, scores[i].accuracy),
    ...(scores[i].screenedOut ? { screenedOut: true as const } : {}),
  }));
  const best = bestIndex(outcomes, state.tieBreak);
  return { chosen: evaluated(state.pending[best], scores[best]), unit: outcomes[best].unit, score: outcomes[best].score, outcomes };
}

function stateCommon(state: GreedyState): StateCommon {
  const { table, scoring, tieBreak, remainingTargets, floors, results, step } = state;
  return { table, scoring, tieBreak, remainingTargets, ...(floors && { floors }), results, step };
}

function nextProposals(table: UnitTable, floors: readonly number[] | undefined, current: EvaluatedConfig, scoring: Scoring, costOf: CostFn): UnitProposal[] {
  return table.units.flatMap((u, i): UnitProposal[] => {
    const position = u.choices.indexOf(current.widths[i]);
    if (position <= 0 || u.choices[position - 1] < (floors?.[i] ?? 0)) return [];
    const widths = current.widths.map((w, j) => (j === i ? u.choices[position - 1] : w));
    const channels = channelsFromUnitWidths(table, widths);
    const cost = checkedCost(costOf(channels));
    if (scoring === 'accuracyDropPerCost' && cost >= current.cost) return [];
    return [{ unit: { index: u.index, name: u.name }, widths, channels, cost }];
  });
}

function scoreOf(scoring: Scoring, current: EvaluatedConfig, cost: number, accuracy: number): number {
  return scoring === 'accuracy' ? accuracy : -(current.accuracy - accuracy) / (current.cost - cost);
}

function bestIndex(outcomes: readonly ProposalOutcome[], tieBreak: TieBreak): number {
  let best = -1;
  for (let i = 0; i < outcomes.length; i++) {
    if (outcomes[i].screenedOut) continue;
    if (best < 0 || beats(outcomes[i], outcomes[best], tieBreak)) best = i;
  }
  return best;
}

/** Whether `a` beats `b`, which has a lower unit index; the lower index wins every full tie. */
function beats(a: ProposalOutcome, b: ProposalOutcome, tieBreak: TieBreak): boolean {
  if (a.score !== b.score) return a.score > b.score;
  if (tieBreak === 'unitIndex' || a.loss === undefined) return false;
  return b.loss === undefined || a.loss < b.loss;
}

function evaluated(p: Proposal, s: Score): EvaluatedConfig {
  return { widths: p.widths, channels: p.channels, cost: p.cost, accuracy: s.accuracy, ...lossField(s) };
}

/** Omits an absent loss instead of storing undefined, so states and records survive JSON unchanged. */
function lossField(s: Score): { loss?: number } {
  return s.loss === undefined ? {} : { loss: s.loss };
}

/** Per unit, its narrowest choice at or above `fraction` of its maximum. */
function unitFloors(table: UnitTable, fraction: number): number[] {
  if (!Number.isFinite(fraction) || fraction < 0 || fraction >= 1) {
    throw new AutoSlimError('minWidthFraction', 'unit-interval', `must be at least 0 and below 1, got ${fraction}`);
  }
  return table.units.map((u) => u.choices.find((c) => c >= fraction * u.max) ?? u.max);
}

function checkedTargets(targets: readonly number[]): number[] {
  if (targets.length === 0) throw new AutoSlimError('targets', 'non-empty', 'give at least one target');
  targets.forEach((t, i) => {
    if (!Number.isFinite(t) || t <= 0) throw new AutoSlimError(`targets[${i}]`, 'positive', `target ${t} must be a positive number`);
  });
  return [...new Set(targets)].sort((a, b) => b - a);
}

function checkedCost(cost: number): number {
  if (!Number.isFinite(cost) || cost < 0) throw new AutoSlimError('cost', 'non-negative', `the cost function returned ${cost}`);
  return cost;
}

function checkScores(scores: readonly Score[], expected: number): void {
  if (scores.length !== expected) throw new AutoSlimError('scores', 'length', `${expected} proposals, got ${scores.length} scores`);
  scores.forEach((s, i) => {
    if (!Number.isFinite(s.accuracy)) throw new AutoSlimError(`scores[${i}].accuracy`, 'finite', `got ${s.accuracy}`);
    if (s.loss !== undefined && !Number.isFinite(s.loss)) throw new AutoSlimError(`scores[${i}].loss`, 'finite', `got ${s.loss}`);
  });
  if (expected > 0 && scores.every((s) => s.screenedOut)) {
    throw new AutoSlimError('scores', 'contender', 'every proposal was screened out; at least one must be fully evaluated');
  }
}
