import { registerEnumType } from 'type-graphql';

/** Enums shared by the GraphQL contract and the stored entities, so both spell values alike. */

export enum JobKind {
  TRAIN_SUPERNET = 'TRAIN_SUPERNET',
  SLIM = 'SLIM',
  RETRAIN = 'RETRAIN',
  PROFILE_LATENCY = 'PROFILE_LATENCY',
  EVALUATE = 'EVALUATE',
  EXPORT = 'EXPORT',
}

export enum JobState {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}

/** How one lease of a job ended. */
export enum AttemptOutcome {
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
  /** The worker stopped gracefully and handed the job back. */
  RELEASED = 'RELEASED',
  /** No heartbeat before the lease ran out: the worker was presumed dead. */
  EXPIRED = 'EXPIRED',
}

export enum ArtifactKind {
  CHECKPOINT = 'CHECKPOINT',
  ONNX = 'ONNX',
  LATENCY_TABLE = 'LATENCY_TABLE',
  DATASET_SPLIT = 'DATASET_SPLIT',
  /** Every sample of a dataset: path or record, label, split, size (executors/data/manifest.ts). */
  DATASET_MANIFEST = 'DATASET_MANIFEST',
  OTHER = 'OTHER',
}

export enum DatasetFormat {
  IDX = 'IDX',
  IMAGE_FOLDER = 'IMAGE_FOLDER',
  /** CIFAR-10 or CIFAR-100 in its binary layout (`data_batch_*.bin`, or `train.bin`). */
  CIFAR = 'CIFAR',
  SYNTHETIC = 'SYNTHETIC',
}

export enum RunKind {
  SUPERNET = 'SUPERNET',
  RETRAIN = 'RETRAIN',
}

/** Where a retraining's weights start. */
export enum RetrainInit {
  SCRATCH = 'SCRATCH',
  SUPERNET = 'SUPERNET',
}

export enum RunStatus {
  PENDING = 'PENDING',
  RUNNING = 'RUNNING',
  FINISHED = 'FINISHED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}

export enum CostConstraint {
  MACS = 'MACS',
  PARAMS = 'PARAMS',
  LATENCY = 'LATENCY',
}

/** A cost a uniform baseline is matched on. */
export enum CostMetric {
  MACS = 'MACS',
  PARAMS = 'PARAMS',
}

export enum BnMode {
  BATCH_STATS = 'BATCH_STATS',
  RECALIBRATED = 'RECALIBRATED',
}

export enum Scoring {
  ACCURACY = 'ACCURACY',
  ACCURACY_DROP_PER_COST = 'ACCURACY_DROP_PER_COST',
}

export enum CandidateSource {
  AUTOSLIM = 'AUTOSLIM',
  UNIFORM = 'UNIFORM',
  IMPORTED = 'IMPORTED',
  /** Drawn at random, spread over MACs, by a ranking study. */
  SAMPLED = 'SAMPLED',
}

/** Why a configuration is in a ranking study. */
export enum StudyConfigOrigin {
  SAMPLED = 'SAMPLED',
  UNIFORM = 'UNIFORM',
  AUTOSLIM = 'AUTOSLIM',
}

export enum CostConvention {
  REFERENCE = 'REFERENCE',
  MMCV = 'MMCV',
}

export enum CandidateOrderField {
  CREATED_AT = 'CREATED_AT',
  MACS = 'MACS',
  PARAMS = 'PARAMS',
  SEARCH_ACCURACY = 'SEARCH_ACCURACY',
  RETRAINED_TOP1 = 'RETRAINED_TOP1',
  MEASURED_LATENCY = 'MEASURED_LATENCY',
}

export enum ExportBatchNorm {
  FOLDED = 'FOLDED',
  RUNNING = 'RUNNING',
}

export enum SortDirection {
  ASC = 'ASC',
  DESC = 'DESC',
}

export enum ProjectRole {
  VIEWER = 'VIEWER',
  EDITOR = 'EDITOR',
  OWNER = 'OWNER',
}

export enum TokenScope {
  READ = 'READ',
  WRITE = 'WRITE',
  ADMIN = 'ADMIN',
  WORKER = 'WORKER',
}

export enum Verdict {
  BETTER = 'BETTER',
  WORSE = 'WORSE',
  INDISTINGUISHABLE = 'INDISTINGUISHABLE',
  INSUFFICIENT = 'INSUFFICIENT',
}

const described: [object, string, string][] = [
  [JobKind, 'JobKind', 'What a job does; executors declare the kinds they run.'],
  [JobState, 'JobState', 'QUEUED → RUNNING → SUCCEEDED | FAILED | CANCELLED.'],
  [AttemptOutcome, 'AttemptOutcome', 'How one lease of a job ended.'],
  [ArtifactKind, 'ArtifactKind', 'What a stored file is.'],
  [DatasetFormat, 'DatasetFormat', 'How a dataset is stored on disk.'],
  [RunKind, 'RunKind', 'A supernet training or the retraining of one candidate.'],
  [RunStatus, 'RunStatus', 'Lifecycle of a training run.'],
  [
    RetrainInit,
    'RetrainInit',
    "Where a retraining's weights start: SCRATCH, a fresh random initialisation; SUPERNET, the candidate's first-k channel slices of a supernet checkpoint (weights and BN running statistics), fine-tuned with the recipe.",
  ],
  [CostConstraint, 'CostConstraint', 'The budget a slimming trajectory walks down under.'],
  [CostMetric, 'CostMetric', 'A cost a uniform baseline is matched on: multiply-accumulates or parameters.'],
  [BnMode, 'BnMode', 'How batch norm is evaluated during search.'],
  [Scoring, 'Scoring', 'How greedy slimming ranks proposals.'],
  [CandidateSource, 'CandidateSource', 'Where a candidate configuration came from; SAMPLED: drawn at random, spread over MACs, by a ranking study.'],
  [
    StudyConfigOrigin,
    'StudyConfigOrigin',
    'Why a configuration is in a ranking study: SAMPLED (drawn spread over MACs), UNIFORM (a width-multiplier baseline of the search space) or AUTOSLIM (found by one of the supernet\'s trajectories).',
  ],
  [ExportBatchNorm, 'ExportBatchNorm', 'Recalibrated BN in an exported model: folded into the convs, or kept as BatchNormalization.'],
  [CostConvention, 'CostConvention', 'How MACs and params are counted (AUTOSLIM.md §3).'],
  [CandidateOrderField, 'CandidateOrderField', 'Leaderboard sort keys.'],
  [SortDirection, 'SortDirection', 'Ascending or descending.'],
  [ProjectRole, 'ProjectRole', 'VIEWER reads a project; EDITOR also registers datasets and runs, cancels and retries jobs; OWNER also manages members.'],
  [
    Verdict,
    'Verdict',
    'Whether a difference is real at 95%: BETTER or WORSE when its interval excludes zero, INDISTINGUISHABLE when it holds zero, INSUFFICIENT when there is no interval (fewer than two paired seeds).',
  ],
  [TokenScope, 'TokenScope', 'What an API token may do: READ queries; WRITE also mutations; ADMIN also manages users; WORKER only the worker protocol.'],
];
for (const [enumRef, name, description] of described) registerEnumType(enumRef, { name, description });
