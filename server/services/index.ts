import type { BlobStore } from '../artifact-store';
import type { Caller } from '../auth/caller';
import type { Orm } from '../db/orm';
import type { EventBus } from '../events';
import type { JobLedger } from '../jobs/ledger';
import type { JobQueue } from '../jobs/queue';
import { CandidateService } from './candidate-service';
import { DatasetService, type DatasetPolicy } from './dataset-service';
import { DemoService } from './demo-service';
import { ExportService } from './export-service';
import { HistoryService } from './history-service';
import { JobService } from './job-service';
import { LatencyService } from './latency-service';
import { ProjectService } from './project-service';
import { RankingStudyService } from './ranking-study-service';
import { SearchSpaceService } from './search-space-service';
import { SlimmingService } from './slimming-service';
import { SupernetService } from './supernet-service';
import { UserService } from './user-service';

/** The domain operations, one service per aggregate; resolvers only validate and call these. */
export class Services {
  readonly jobs: JobService;
  readonly projects: ProjectService;
  readonly datasets: DatasetService;
  readonly searchSpaces: SearchSpaceService;
  readonly supernets: SupernetService;
  readonly slimming: SlimmingService;
  readonly candidates: CandidateService;
  readonly rankingStudies: RankingStudyService;
  readonly exports: ExportService;
  readonly history: HistoryService;
  readonly latency: LatencyService;
  readonly users: UserService;
  readonly demo: DemoService;

  constructor(
    readonly orm: Orm,
    readonly bus: EventBus,
    queue: JobQueue,
    readonly ledger: JobLedger,
    datasetPolicy: DatasetPolicy,
    blobs: BlobStore,
  ) {
    this.jobs = new JobService(orm, bus, queue, ledger);
    this.projects = new ProjectService(orm);
    this.datasets = new DatasetService(orm, datasetPolicy, blobs, bus);
    this.searchSpaces = new SearchSpaceService(orm);
    this.supernets = new SupernetService(orm, this.jobs);
    this.slimming = new SlimmingService(orm, this.jobs);
    this.candidates = new CandidateService(orm, this.jobs);
    this.rankingStudies = new RankingStudyService(orm, this.jobs);
    this.exports = new ExportService(orm, this.jobs);
    this.history = new HistoryService(orm);
    this.latency = new LatencyService(orm, this.jobs);
    this.users = new UserService(orm);
    this.demo = new DemoService(orm, this.projects, this.datasets, this.searchSpaces, this.jobs);
  }
}

export interface GraphQLContext {
  readonly services: Services;
  /** Who asks, and what they may touch. */
  readonly caller: Caller;
}
