import { Field, Float, ID, InputType, Int } from 'type-graphql';
import {
  BnMode,
  CandidateOrderField,
  CandidateSource,
  CostConstraint,
  DatasetFormat,
  ExportBatchNorm,
  JobKind,
  JobState,
  ProjectRole,
  RetrainInit,
  Scoring,
  SortDirection,
  TokenScope,
} from './enums';

@InputType()
export class CreateProjectInput {
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
}

@InputType({ description: 'Shape of a generated dataset, for tests and demos.' })
export class SyntheticDatasetInput {
  @Field(() => Int)
  numClasses: number = 10;
  @Field(() => Int)
  trainSize: number = 512;
  @Field(() => Int)
  testSize: number = 128;
  @Field(() => Int)
  channels: number = 1;
  @Field(() => Int)
  size: number = 28;
}

@InputType()
export class RegisterDatasetInput {
  @Field(() => ID) projectId!: string;
  @Field(() => String) name!: string;
  @Field(() => DatasetFormat) format!: DatasetFormat;
  @Field(() => String, { nullable: true, description: 'Folder of the files; not used by SYNTHETIC.' }) path?: string | null;
  @Field(() => SyntheticDatasetInput, { nullable: true }) synthetic?: SyntheticDatasetInput | null;
  @Field(() => [String], { nullable: true }) classNames?: string[] | null;
  @Field(() => Float, { description: 'Share of training images held out for the search.' })
  searchFraction: number = 0.1;
  @Field(() => Int)
  splitSeed: number = 0;
  @Field(() => Boolean, { description: 'Skip (and count) images that cannot be read or decoded, instead of failing registration or the job.' })
  skipCorrupt: boolean = false;
}

@InputType({ description: 'Overrides one channel unit of a search space.' })
export class UnitOverrideInput {
  @Field(() => String) unit!: string;
  @Field(() => Int, { nullable: true }) min?: number | null;
  @Field(() => Int, { nullable: true }) groups?: number | null;
}

@InputType()
export class CreateSearchSpaceInput {
  @Field(() => ID) projectId!: string;
  @Field(() => String) name!: string;
  @Field(() => String) architecture!: string;
  @Field(() => Int, { nullable: true, description: 'Defaults to the architecture\'s input size.' }) inputSize?: number | null;
  @Field(() => Int, { nullable: true }) numClasses?: number | null;
  @Field(() => Float, { nullable: true, description: 'Width multiplier of the widest config (default: the architecture\'s AutoSlim start width).' })
  maxWidth?: number | null;
  @Field(() => Int)
  groups: number = 12;
  @Field(() => Int)
  divisor: number = 8;
  @Field(() => [UnitOverrideInput])
  units: UnitOverrideInput[] = [];
}

/** The optimisation settings every training shares; each recipe sets its own epochs. */
@InputType()
export abstract class TrainingRecipeInput {
  abstract epochs: number;
  @Field(() => Int)
  batchSize: number = 64;
  @Field(() => Float)
  learningRate: number = 0.05;
  @Field(() => Float)
  momentum: number = 0.9;
  @Field(() => Float)
  weightDecay: number = 1e-4;
  @Field(() => String, { description: 'linear, cosine or step.' })
  schedule: string = 'linear';
  @Field(() => Float)
  warmupEpochs: number = 0;
  @Field(() => Float)
  labelSmoothing: number = 0.1;
  @Field(() => Int, {
    nullable: true,
    description:
      'Images per epoch, drawn afresh each epoch by the seeded shuffle; null trains on the whole training split every epoch. For quick runs on a CPU.',
  })
  imagesPerEpoch?: number | null;
  @Field(() => Int, { description: 'Training, images already at the input size: black padding before a random crop back to size; 0 turns it off.' })
  cropPadding: number = 2;
  @Field(() => Boolean, {
    nullable: true,
    description: 'Training: mirror each image left to right with probability 1/2. Left out: off for IDX datasets (digits and letters are not mirror-symmetric), on for the others; the run records what was used.',
  })
  horizontalFlip?: boolean | null;
  @Field(() => Float, { description: 'Training, images of another size: the smallest share of the image area random-resized-crop takes (torchvision: 0.08); the largest is 1.' })
  cropScaleMin: number = 0.08;
  @Field(() => Float, { description: 'Evaluation, images of another size: the centre crop\'s share of the resized shorter side (torchvision\'s ImageNet evaluation: 0.875).' })
  evalCropRatio: number = 0.875;
}

@InputType({ description: 'How a supernet is trained (AUTOSLIM.md §1, stage 2).' })
export class SupernetRecipeInput extends TrainingRecipeInput {
  @Field(() => Int)
  epochs: number = 5;
  @Field(() => Int, { description: 'Random configs per step besides the widest and narrowest.' })
  randomConfigs: number = 2;
  @Field(() => String, { description: 'soft (reference), hard+kl (mmrazor) or off.' })
  distillation: string = 'soft';
  @Field(() => Int)
  seed: number = 0;
}

@InputType()
export class TrainSupernetInput {
  @Field(() => String) name!: string;
  @Field(() => ID) searchSpaceId!: string;
  @Field(() => ID) datasetId!: string;
  @Field(() => SupernetRecipeInput)
  recipe: SupernetRecipeInput = new SupernetRecipeInput();
}

@InputType()
export class StartSlimmingInput {
  @Field(() => ID) supernetId!: string;
  @Field(() => CostConstraint)
  constraint: CostConstraint = CostConstraint.MACS;
  @Field(() => [Float], { description: 'Budgets in the constraint\'s unit (MACs, params or ms).' }) targets!: number[];
  @Field(() => Int, { description: 'Images of the search hold-out in each evaluation batch.' })
  evalBatchSize: number = 2048;
  @Field(() => Int, { description: 'Seed of the first evaluation batch; batch i is drawn with evalSeed + i.' })
  evalSeed: number = 0;
  @Field(() => Int, { description: 'Seeded evaluation batches every proposal is scored on (1 to 16); accuracy and loss are averaged over their images.' })
  evalBatches: number = 1;
  @Field(() => BnMode)
  bnMode: BnMode = BnMode.BATCH_STATS;
  @Field(() => Int, {
    description:
      'RECALIBRATED: training images (never hold-out ones) the BN statistics of every proposal are re-estimated on, at most the training split; 2 to 65536.',
  })
  calibrationImages: number = 1024;
  @Field(() => Int, { description: 'RECALIBRATED: seed of the calibration images\' draw.' })
  calibrationSeed: number = 0;
  @Field(() => Float, {
    description: 'The walk never slims a unit below this fraction of its widest width (it stops at the narrowest choice at or above it); 0 ≤ x < 1, 0 for no floor.',
  })
  minWidthFraction: number = 0;
  @Field(() => Scoring)
  scoring: Scoring = Scoring.ACCURACY;
  @Field(() => ID, { nullable: true, description: 'LATENCY only: the device whose latest latency table of the search space gives the cost.' })
  deviceId?: string | null;
  @Field(() => Int, {
    nullable: true,
    description:
      'Screening, a saving: score every proposal on this many of the evaluation images first, and evaluate only the screenKeep best on all of them. Off (null) by default; ACCURACY scoring only. Each step records which proposals were screened out.',
  })
  screenBatchSize?: number | null;
  @Field(() => Int, { description: 'Proposals per step evaluated on the full batch when screening.' })
  screenKeep: number = 3;
}

@InputType({ description: 'How a candidate is retrained, from scratch or from its slices of a supernet.' })
export class RetrainRecipeInput extends TrainingRecipeInput {
  @Field(() => Int)
  epochs: number = 10;
}

@InputType()
export class RetrainCandidateInput {
  @Field(() => ID) candidateId!: string;
  @Field(() => ID) datasetId!: string;
  @Field(() => [Int], { description: 'One training run per seed.' })
  seeds: number[] = [0];
  @Field(() => RetrainRecipeInput)
  recipe: RetrainRecipeInput = new RetrainRecipeInput();
  @Field(() => RetrainInit)
  init: RetrainInit = RetrainInit.SCRATCH;
  @Field(() => ID, {
    nullable: true,
    description: "SUPERNET only: the supernet (of the candidate's search space) whose latest checkpoint the weights are sliced from; by default the supernet of the candidate's trajectory.",
  })
  supernetId?: string | null;
}

@InputType({
  description:
    "A ranking study of a supernet: configurations spread over MACs, the search space's uniform baselines and the supernet's AutoSlim candidates, each scored from the supernet on the search hold-out and retrained from scratch with every seed.",
})
export class StudyRankingInput {
  @Field(() => ID) supernetId!: string;
  @Field(() => Int, { description: 'Random configurations spread evenly over MACs, between the narrowest and the widest (0 to 64).' })
  sampledConfigs: number = 8;
  @Field(() => [Int], { description: 'Every configuration is retrained once per seed (1 to 16, distinct).' }) seeds!: number[];
  @Field(() => RetrainRecipeInput, {
    description: "How every configuration is retrained on the supernet's dataset; a run of the same candidate, seed, dataset and recipe that has not failed is reused.",
  })
  recipe!: RetrainRecipeInput;
  @Field(() => Int, { description: 'Seeds the draw of the sampled configurations.' })
  sampleSeed: number = 0;
  @Field(() => Int, { description: 'Search hold-out images per evaluation batch, as in startSlimming.' })
  evalBatchSize: number = 2048;
  @Field(() => Int)
  evalSeed: number = 0;
  @Field(() => Int, { description: 'Seeded hold-out batches each configuration is scored on (1 to 16, as in startSlimming).' })
  evalBatches: number = 1;
  @Field(() => Int, { description: 'Training images (outside the search hold-out) the BN statistics are recalibrated on, for RECALIBRATED scores.' })
  calibrationImages: number = 1024;
  @Field(() => Int)
  calibrationSeed: number = 0;
}

@InputType({
  description:
    "A candidate as a standalone ONNX file. Weights come from a retraining run (runId) or are sliced from a supernet (supernetId; by default the supernet of the candidate's trajectory).",
})
export class ExportCandidateInput {
  @Field(() => ID) candidateId!: string;
  @Field(() => ID, { nullable: true, description: 'A finished RETRAIN run of this candidate whose weights to export.' })
  runId?: string | null;
  @Field(() => ID, { nullable: true, description: 'A supernet of the candidate\'s search space to slice the weights from.' })
  supernetId?: string | null;
  @Field(() => ID, {
    nullable: true,
    description:
      "Lends the images: BN is recalibrated on its training images and the file's test top-1 measured on its test images; by default the dataset the weights were trained on. The file's input normalization is always that of the dataset the weights were trained on.",
  })
  datasetId?: string | null;
  @Field(() => ExportBatchNorm)
  batchNorm: ExportBatchNorm = ExportBatchNorm.FOLDED;
  @Field(() => Int, { description: 'Training images the BN statistics are recalibrated on.' })
  calibrationImages: number = 2048;
  @Field(() => Int)
  calibrationSeed: number = 0;
}

@InputType({ description: 'Uniform width-multiplier baselines of a search space: give widths, or matchTrajectory.' })
export class CreateUniformCandidatesInput {
  @Field(() => ID) searchSpaceId!: string;
  @Field(() => [Float], { nullable: true }) widths?: number[] | null;
  @Field(() => ID, {
    nullable: true,
    description:
      "A MACS or PARAMS trajectory of this search space: one baseline per target, the widest width multiplier (on a 0.001 grid from 0.15 to the space's maxWidth) whose cost is at most the target.",
  })
  matchTrajectory?: string | null;
}

@InputType({ description: 'A channel list from elsewhere, e.g. pasted from the official AutoSlim configs.' })
export class ImportCandidateInput {
  @Field(() => ID) searchSpaceId!: string;
  @Field(() => [Int]) channels!: number[];
}

@InputType()
export class CandidateFilter {
  @Field(() => ID, { nullable: true }) projectId?: string | null;
  @Field(() => ID, { nullable: true }) searchSpaceId?: string | null;
  @Field(() => ID, { nullable: true, description: 'The candidates the trajectory picked, including those another trajectory found first.' })
  trajectoryId?: string | null;
  @Field(() => CandidateSource, { nullable: true }) source?: CandidateSource | null;
  @Field(() => Float, { nullable: true }) maxMacs?: number | null;
  @Field(() => Float, { nullable: true }) maxParams?: number | null;
}

@InputType()
export class CandidateOrder {
  @Field(() => CandidateOrderField) field!: CandidateOrderField;
  @Field(() => SortDirection)
  direction: SortDirection = SortDirection.ASC;
}

@InputType()
export class JobFilter {
  @Field(() => ID, { nullable: true }) projectId?: string | null;
  @Field(() => JobState, { nullable: true }) state?: JobState | null;
  @Field(() => JobKind, { nullable: true }) kind?: JobKind | null;
}

@InputType()
export class SupernetFilter {
  @Field(() => ID, { nullable: true }) projectId?: string | null;
  @Field(() => ID, { nullable: true }) searchSpaceId?: string | null;
  @Field(() => ID, { nullable: true }) datasetId?: string | null;
}

/** How every latency measurement times a model; shared by table builds and single measurements. */
@InputType()
export abstract class LatencyTimingInput {
  @Field(() => Int)
  batchSize: number = 1;
  @Field(() => Int)
  warmupRuns: number = 10;
  @Field(() => Int)
  timedRuns: number = 50;
}

@InputType({ description: 'A latency lookup table of a search space, built by the probe of a device (a PROFILE_LATENCY job).' })
export class BuildLatencyTableInput extends LatencyTimingInput {
  @Field(() => ID) deviceId!: string;
  @Field(() => ID) searchSpaceId!: string;
  @Field(() => Int, { nullable: true, description: 'Widths measured per unit axis of each kind, multiples of 16 and the others (at least 2, both ends included), the rest interpolated among their kind; null measures every width.' })
  gridPoints?: number | null;
  @Field(() => Int, {
    description: 'Whole models timed to fit the overhead and the per-kind coefficients: the narrowest, the widest, and configs spread over the cost range.',
  })
  calibrationConfigs: number = 60;
  @Field(() => Int, { description: 'Configs spread over the cost range, none used for calibration, predicted against measured.' })
  validationConfigs: number = 30;
  @Field(() => Int, { description: 'Passes over every block and model; each keeps its quietest (fastest) pass.' })
  rounds: number = 3;
  @Field(() => Int)
  seed: number = 0;
}

@InputType({ description: 'Times one config on a device: give candidateId, or searchSpaceId and channels.' })
export class MeasureLatencyInput extends LatencyTimingInput {
  @Field(() => ID) deviceId!: string;
  @Field(() => ID, { nullable: true }) candidateId?: string | null;
  @Field(() => ID, { nullable: true }) searchSpaceId?: string | null;
  @Field(() => [Int], { nullable: true }) channels?: number[] | null;
}

@InputType()
export class SetProjectMemberInput {
  @Field(() => ID) projectId!: string;
  @Field(() => String, { description: 'The user\'s name.' }) user!: string;
  @Field(() => ProjectRole) role!: ProjectRole;
}

@InputType()
export class CreateUserInput {
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true, description: 'At least 10 characters; none: the user signs in only with tokens.' })
  password?: string | null;
  @Field(() => Boolean) admin: boolean = false;
}

@InputType()
export class CreateTokenInput {
  @Field(() => String) name!: string;
  @Field(() => [TokenScope]) scopes!: TokenScope[];
  @Field(() => String, { nullable: true, description: 'Whose token: default the caller; another user\'s needs admin.' })
  user?: string | null;
  @Field(() => Int, { nullable: true, description: 'Days until it stops working (1–3650); none: it never expires.' })
  expiresInDays?: number | null;
}
