/** The parts of the GraphQL schema (schema/schema.graphql) the web app reads. */

export type CandidateSource = 'AUTOSLIM' | 'UNIFORM' | 'IMPORTED';
export type CandidateOrderField = 'CREATED_AT' | 'MACS' | 'PARAMS' | 'MEASURED_LATENCY' | 'SEARCH_ACCURACY' | 'RETRAINED_TOP1';
export type SortDirection = 'ASC' | 'DESC';
export type JobState = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
export type CostConstraint = 'MACS' | 'PARAMS' | 'LATENCY';
export type TokenScope = 'READ' | 'WRITE' | 'ADMIN' | 'WORKER';
export type ProjectRole = 'VIEWER' | 'EDITOR' | 'OWNER';

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

export interface CandidateRow {
  id: string;
  configHash: string;
  source: CandidateSource;
  macs: number;
  params: number;
  predictedLatencyMs: number | null;
  measuredLatencyMs: number | null;
  searchAccuracy: number | null;
  retrainedTop1Mean: number | null;
  retrainedTop1Std: number | null;
  retrainedRuns: number;
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
