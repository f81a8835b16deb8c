import { Artifact } from './artifact';
import { Candidate } from './candidate';
import { Dataset } from './dataset';
import { DemoPipeline } from './demo-pipeline';
import { Device } from './device';
import { Executor } from './executor';
import { Job } from './job';
import { JobAttempt } from './job-attempt';
import { LatencyMeasurement, LatencyTable } from './latency';
import { MetricPoint } from './metric-point';
import { Project } from './project';
import { RankingStudy, RankingStudyConfig } from './ranking-study';
import { SearchSpace } from './search-space';
import { SlimmingStep, SlimmingTrajectory } from './slimming';
import { Supernet } from './supernet';
import { TrainingRun } from './training-run';
import { TrajectoryPick } from './trajectory-pick';
import { ApiToken, ProjectMember, User, WebSession } from './user';
import { WorkerNode } from './worker-node';

export * from './artifact';
export * from './candidate';
export * from './dataset';
export * from './demo-pipeline';
export * from './device';
export * from './executor';
export * from './job';
export * from './job-attempt';
export * from './latency';
export * from './metric-point';
export * from './project';
export * from './ranking-study';
export * from './search-space';
export * from './slimming';
export * from './supernet';
export * from './training-run';
export * from './trajectory-pick';
export * from './user';
export * from './worker-node';

export const ENTITIES = [
  Project,
  Dataset,
  SearchSpace,
  Supernet,
  SlimmingTrajectory,
  SlimmingStep,
  Candidate,
  TrajectoryPick,
  TrainingRun,
  MetricPoint,
  Artifact,
  Job,
  JobAttempt,
  WorkerNode,
  Executor,
  Device,
  LatencyTable,
  LatencyMeasurement,
  RankingStudy,
  RankingStudyConfig,
  User,
  ApiToken,
  WebSession,
  ProjectMember,
  DemoPipeline,
];
