/** The parts of the GraphQL schema (schema/schema.graphql) the web app reads. */

export type CandidateSource = 'AUTOSLIM' | 'UNIFORM' | 'IMPORTED' | 'SAMPLED';
export type CandidateOrderField = 'CREATED_AT' | 'MACS' | 'PARAMS' | 'MEASURED_LATENCY' | 'SEARCH_ACCURACY' | 'RETRAINED_TOP1';
export type SortDirection = 'ASC' | 'DESC';
export type JobState = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
export type CostConstraint = 'MACS' | 'PARAMS' | 'LATENCY';
export type TokenScope = 'READ' | 'WRITE' | 'ADMIN' | 'WORKER';
export type ProjectRole = 'VIEWER' | 'EDITOR' | 'OWNER';
export type Verdict = 'BETTER' | 'WORSE' | 'INDISTINGUISHABLE' | 'INSUFFICIENT';
export type BnMode = 'BATCH_STATS' | 'RECALIBRATED';
export type StudyConfigOrigin = 'SAMPLED' | 'UNIFORM' | 'AUTOSLIM';

/** An estimate with its two-sided interval at `confidence`; low and high are null when n is too small for one. */
export interface Interval {
  estimate: number;
  low: number | null;
  high: number | null;
  n: number;
  confidence: number;
}

/** An AutoSlim candidate against the uniform baseline of its budget, paired by seed. */
export interface BaselineComparison {
  baseline: { id: string; configHash: string; macs: number; widthMultiplier: number | null };
  budget: number;
  difference: Interval | null;
  verdict: Verdict;
}

export interface SearchSpaceSummary {
  id: string;
  name: string;
  architecture: string;
}

export interface ProjectSummary {
  id: string;
  name: string;
  searchSpaces: SearchSpaceSummary[];
}

export interface ChannelUnit {
  index: number;
  name: string;
  max: number;
  members: number[];
  layers: string[];
}

/** A latency table's validation: predicted against measured latency on configurations it was not calibrated on. */
export interface TableValidation {
  configs: number;
  mape: number;
  within5: number;
  within10: number;
  kendallTau: number | null;
}

export interface CandidateRow {
  id: string;
  configHash: string;
  source: CandidateSource;
  macs: number;
  params: number;
  predictedLatencyMs: number | null;
  predictedLatencyTable: { version: number; validation: TableValidation } | null;
  measuredLatencyMs: number | null;
  searchAccuracy: number | null;
  retrainedTop1: Interval | null;
  fineTunedTop1: Interval | null;
  inheritedTop1: number | null;
  comparison: BaselineComparison | null;
  /** AUTOSLIM: the trajectory that found it, whose BN mode its search accuracy was scored under. */
  trajectory: { bnMode: BnMode } | null;
}

export interface CandidatePage {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { node: CandidateRow }[];
}

export interface SlimmingStep {
  id: string;
  index: number;
  unitIndex: number | null;
  unitName: string | null;
  channels: number[];
  macs: number;
  params: number;
  accuracy: number;
  accuracyDrop: number;
}

export interface Job {
  id: string;
  kind: string;
  state: JobState;
  progress: number;
  progressMessage: string | null;
  attempts: number;
  maxAttempts: number;
  cancelRequested: boolean;
  error: string | null;
  waitingReason: string | null;
  executorName: string | null;
  backend: string | null;
  provider: string | null;
  device: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface Executor {
  id: string;
  name: string;
  kinds: string[];
  backend: string;
  provider: string;
  device: string;
  host: string;
  online: boolean;
  lastSeenAt: string;
  note: string | null;
}

export interface MetricSeries {
  key: string;
  totalPoints: number;
  points: { step: number; value: number }[];
}

/** The signed-in user: `viewer` in the schema, `user` in the /auth routes' answers. */
export interface User {
  id: string;
  name: string;
  admin: boolean;
}

/** An API token as listed: never its secret, which only `createToken` answers, once. */
export interface ApiToken {
  id: string;
  name: string;
  prefix: string;
  scopes: TokenScope[];
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface CreatedToken {
  secret: string;
  token: ApiToken;
}

export interface ProjectMember {
  user: { name: string };
  role: ProjectRole;
  createdAt: string;
}

export interface SupernetScore {
  bnMode: BnMode;
  accuracy: number;
  loss: number;
}

export interface RankingStudyConfig {
  candidate: { id: string; configHash: string };
  origin: StudyConfigOrigin;
  macs: number;
  params: number;
  scores: SupernetScore[];
  retrainedTop1: Interval | null;
}

/** Kendall τ and Spearman ρ between supernet score and retrained top-1, with bootstrap intervals; null when undefined. */
export interface RankCorrelation {
  bnMode: BnMode;
  configs: number;
  kendallTau: Interval | null;
  spearmanRho: Interval | null;
}
