/** The public API of autoslim/: the pure AutoSlim method (AUTOSLIM.md). */
export { AutoSlimError } from './errors';
export { makeDivisible } from './divisible';

export type { ArchitectureName, ArchitectureInfo } from './architecture';
export { ARCHITECTURE_NAMES, architectureInfo, parseArchitecture } from './architecture';

export type { NetworkOptions } from './options';
export { MAX_INPUT_SIZE, MAX_WIDTH } from './options';

export type { ChannelList } from './channels';
export { parseChannelList, defaultChannels, MIN_WIDTH_MULTIPLIER, MAX_WIDTH_MULTIPLIER } from './channels';

export type * from './graph';
export { buildGraph } from './build-graph';

export type { CostConvention, LayerCost, NetworkCost } from './profile';
export { profile, profileGraph } from './profile';

export type { ChannelUnit, UnitTable, UnitSpacing, UnitOptions } from './units';
export { DEFAULT_GROUPS, DEFAULT_DIVISOR, buildUnitTable, channelsFromUnitWidths, unitWidthsOf } from './units';

export type { Rng } from './sampling';
export { uniformConfig, randomConfig } from './sampling';

export type { SpreadOptions } from './spread';
export { spreadConfigs, evenTargets, nearestDistinct, levelConfig } from './spread';

export type {
  Scoring,
  TieBreak,
  GreedyOptions,
  CostFn,
  Score,
  UnitRef,
  Proposal,
  UnitProposal,
  EvaluatedConfig,
  TargetResult,
  ProposalOutcome,
  StepRecord,
  StopReason,
  GreedyState,
  FinishedState,
} from './greedy';
export { startSlimming, proposals, advance } from './greedy';

export type { Evaluator, StepListener } from './run-greedy';
export { runGreedy } from './run-greedy';
export { screenContenders } from './screening';

export type { CostMetric } from './cost';
export { profileCost } from './cost';

export { configHash } from './hash';

export { humanCount } from './format';

export type { Interval, Verdict, BootstrapOptions } from './statistics';
export {
  CONFIDENCE,
  meanInterval,
  pairedDifference,
  verdictOf,
  kendallTauB,
  spearmanRho,
  ranks,
  bootstrapInterval,
  studentTQuantile,
} from './statistics';

export type { UniformWidth } from './uniform';
export { UNIFORM_WIDTH_STEP, widestUniformWithin } from './uniform';
export type { RankAgreement } from './rank-agreement';
export { rankAgreement, MIN_PAIRS_FOR_INTERVAL } from './rank-agreement';
