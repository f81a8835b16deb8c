import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import {
  ArtifactKind,
  AttemptOutcome,
  BnMode,
  CandidateSource,
  CostConstraint,
  CostMetric,
  DatasetFormat,
  JobKind,
  JobState,
  ProjectRole,
  RetrainInit,
  RunKind,
  RunStatus,
  TokenScope,
  Scoring,
  Verdict,
  StudyConfigOrigin,
} from './enums';
import { DateTime, JSON } from './scalars';

@ObjectType({ description: 'A namespace that owns datasets, search spaces, supernets and everything they produce.' })
export class Project {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => DateTime) createdAt!: Date;
}

@ObjectType({ description: 'Images, their splits and the seed and digest that made the search hold-out.' })
export class Dataset {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => DatasetFormat) format!: DatasetFormat;
  @Field(() => Int) inputChannels!: number;
  @Field(() => Int) inputHeight!: number;
  @Field(() => Int) inputWidth!: number;
  @Field(() => Int) numClasses!: number;
  @Field(() => [String], { nullable: true }) classNames!: string[] | null;
  @Field(() => Int, { description: 'Training images, before the search hold-out is carved out.' }) trainSize!: number;
  @Field(() => Int) testSize!: number;
  @Field(() => Float) searchFraction!: number;
  @Field(() => Int) splitSeed!: number;
  @Field(() => Int, { nullable: true, description: 'Images in the search hold-out.' }) searchSize!: number | null;
  @Field(() => String, { nullable: true, description: 'sha256 of the hold-out indices and of the sample manifest.' }) splitDigest!: string | null;
  @Field(() => Boolean, { description: 'True when the images differ in size (inputHeight and inputWidth are then the smallest); the loader brings each to the network\'s input.' })
  sizesVary!: boolean;
  @Field(() => Boolean, { description: 'Unreadable images are skipped and counted instead of failing.' }) skipCorrupt!: boolean;
  @Field(() => Int, { description: 'Files left out at registration because they could not be read (skipCorrupt).' }) skippedFiles!: number;
  @Field(() => DateTime) createdAt!: Date;
}

@ObjectType('RegistrationProgress', { description: 'How far the registration of a dataset folder has come.' })
export class RegistrationProgressType {
  @Field(() => ID) projectId!: string;
  @Field(() => String, { description: 'The dataset being registered.' }) name!: string;
  @Field(() => String, { description: '`headers` (reading every image header) or `statistics` (normalization over the training split).' }) phase!: string;
  @Field(() => Int) done!: number;
  @Field(() => Int) total!: number;
}

@ObjectType('DatasetNormalization', { description: 'Per-channel statistics of pixels in [0, 1], over the training split less the search hold-out.' })
export class DatasetNormalizationType {
  @Field(() => [Float]) mean!: number[];
  @Field(() => [Float]) std!: number[];
  @Field(() => Int, { description: 'Training images the statistics were computed over (a seeded sample for image folders).' }) images!: number;
}

@ObjectType({ description: 'An independent width: every layer in it shares one channel count.' })
export class ChannelUnit {
  @Field(() => Int) index!: number;
  @Field(() => String) name!: string;
  @Field(() => [Int], { description: 'Positions in the channel list that take this width.' }) members!: number[];
  @Field(() => [String], { description: 'Layers whose output width this unit sets.' }) layers!: string[];
  @Field(() => Int) max!: number;
  @Field(() => Int) min!: number;
  @Field(() => [Int], { description: 'Widths the unit may take, ascending.' }) choices!: number[];
}

@ObjectType({ description: 'An architecture with its input size, class count, widest config and unit table.' })
export class SearchSpace {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => String) architecture!: string;
  @Field(() => Int) inputSize!: number;
  @Field(() => Int) numClasses!: number;
  @Field(() => Float, { description: 'Width multiplier of the widest config.' }) maxWidth!: number;
  @Field(() => Int) groups!: number;
  @Field(() => Int) divisor!: number;
  @Field(() => [Int], { description: 'The widest channel list in the reference layout.' }) maxChannels!: number[];
  @Field(() => [ChannelUnit]) units!: ChannelUnit[];
  @Field(() => DateTime) createdAt!: Date;
}

@ObjectType()
export class Artifact {
  @Field(() => ID) id!: string;
  @Field(() => ArtifactKind) kind!: ArtifactKind;
  @Field(() => String) name!: string;
  @Field(() => Float) bytes!: number;
  @Field(() => String) sha256!: string;
  @Field(() => DateTime) createdAt!: Date;
}

@ObjectType({ description: 'One training attempt: a supernet, or a candidate retrained with one seed.' })
export class TrainingRun {
  @Field(() => ID) id!: string;
  @Field(() => RunKind) kind!: RunKind;
  @Field(() => RunStatus) status!: RunStatus;
  @Field(() => Int) seed!: number;
  @Field(() => JSON) recipe!: Record<string, unknown>;
  @Field(() => ID, { nullable: true, description: 'The dataset it trains on; null for runs recorded before the dataset was.' }) datasetId!: string | null;
  @Field(() => RetrainInit, { description: 'Where the weights started: a retraining from SUPERNET slices is a fine-tuning.' }) init!: RetrainInit;
  @Field(() => String, { nullable: true }) backend!: string | null;
  @Field(() => Int, { nullable: true, description: 'Step of the latest checkpoint.' }) checkpointStep!: number | null;
  @Field(() => JSON, { nullable: true, description: 'Final figures, e.g. test top-1 and top-5.' })
  summary!: Record<string, number> | null;
  @Field(() => DateTime, { nullable: true }) startedAt!: Date | null;
  @Field(() => DateTime, { nullable: true }) finishedAt!: Date | null;
  @Field(() => DateTime) createdAt!: Date;
}

@ObjectType({ description: 'A slimmable training of a search space on a dataset.' })
export class Supernet {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => JSON) recipe!: Record<string, unknown>;
  @Field(() => DateTime) createdAt!: Date;
}

@ObjectType()
export class ProposalScore {
  @Field(() => Int) unitIndex!: number;
  @Field(() => Float) score!: number;
  @Field(() => Float, { description: 'Full-batch accuracy; the screening batch\'s when screenedOut.' }) accuracy!: number;
  @Field(() => Float) cost!: number;
  @Field(() => Float, { nullable: true, description: 'Accuracy on the smaller screening batch, when the step was screened.' })
  screenAccuracy?: number | null;
  @Field(() => Boolean, { description: 'Ruled out by the screening: never evaluated on the full batch, and could not win the step.' })
  screenedOut?: boolean;
}

@ObjectType({ description: 'One greedy step: the unit slimmed and the config it reached.' })
export class SlimmingStep {
  @Field(() => ID) id!: string;
  @Field(() => Int) index!: number;
  @Field(() => Int, { nullable: true, description: 'Null for step 0, the widest config.' }) unitIndex!: number | null;
  @Field(() => String, { nullable: true }) unitName!: string | null;
  @Field(() => [Int]) channels!: number[];
  @Field(() => Float) macs!: number;
  @Field(() => Float) params!: number;
  @Field(() => Float, { nullable: true }) predictedLatencyMs!: number | null;
  @Field(() => Float) score!: number;
  @Field(() => Float) accuracy!: number;
  @Field(() => Float, { description: 'Accuracy lost against the widest config.' }) accuracyDrop!: number;
  proposals!: ProposalScore[];
}

@ObjectType({ description: 'One greedy walk of a supernet under a cost constraint.' })
export class SlimmingTrajectory {
  @Field(() => ID) id!: string;
  @Field(() => CostConstraint) constraint!: CostConstraint;
  @Field(() => [Float]) targets!: number[];
  @Field(() => Int) evalBatchSize!: number;
  @Field(() => Int) evalSeed!: number;
  @Field(() => Int, { description: 'Seeded evaluation batches every proposal was scored on.' }) evalBatches!: number;
  @Field(() => BnMode) bnMode!: BnMode;
  @Field(() => Int, { nullable: true, description: 'RECALIBRATED: training images the BN statistics were re-estimated on; null under BATCH_STATS.' })
  calibrationImages!: number | null;
  @Field(() => Int, { nullable: true, description: 'RECALIBRATED: seed of the calibration images; null under BATCH_STATS.' }) calibrationSeed!: number | null;
  @Field(() => Float, { description: 'The floor of every unit, a fraction of its widest width.' }) minWidthFraction!: number;
  @Field(() => Scoring) scoring!: Scoring;
  @Field(() => Int) evaluations!: number;
  @Field(() => Int) cacheHits!: number;
  @Field(() => Float) evalSeconds!: number;
  @Field(() => DateTime) createdAt!: Date;
}

@ObjectType({ description: "The configuration a trajectory picked for one of its budgets, whether or not it found that configuration first." })
export class TrajectoryPick {
  @Field(() => Float, { description: "The budget, in the trajectory's constraint unit." }) target!: number;
  candidate!: Candidate;
  @Field(() => Float, { description: 'Its accuracy on the search hold-out, as this trajectory scored it.' }) searchAccuracy!: number;
  @Field(() => Int, {
    nullable: true,
    description: 'The index of the greedy step that reached it (see steps); null only for picks carried over from before picks were recorded, when no step had its channels.',
  })
  step!: number | null;
  @Field(() => Float, { nullable: true, description: "The latency table's prediction, under a latency budget." }) predictedLatencyMs!: number | null;
}

@ObjectType({ description: 'A channel configuration worth retraining.' })
export class Candidate {
  @Field(() => ID) id!: string;
  @Field(() => String, { description: 'Content hash of (architecture, channels).' }) configHash!: string;
  @Field(() => [Int]) channels!: number[];
  @Field(() => CandidateSource) source!: CandidateSource;
  @Field(() => Float, {
    nullable: true,
    description: "AUTOSLIM: the budget the first trajectory that found it picked it for (see trajectory); every trajectory's own budgets are in SlimmingTrajectory.picks.",
  })
  target!: number | null;
  @Field(() => Float, { nullable: true }) widthMultiplier!: number | null;
  @Field(() => Float) macs!: number;
  @Field(() => Float) params!: number;
  @Field(() => Float, { nullable: true }) searchAccuracy!: number | null;
  @Field(() => Float, { nullable: true }) predictedLatencyMs!: number | null;
  @Field(() => Float, { nullable: true }) measuredLatencyMs!: number | null;
  @Field(() => Boolean, { nullable: true, description: 'Under a latency budget: the measured latency came out above the target.' })
  latencyTargetMissed!: boolean | null;
  @Field(() => Float, { nullable: true, description: 'retrainedTop1.estimate, stored so the leaderboard can sort on it.' }) retrainedTop1Mean!: number | null;
  @Field(() => Float, { nullable: true, description: 'Sample standard deviation over the seeds retrainedTop1 counts.' }) retrainedTop1Std!: number | null;
  @Field(() => Int, { description: "Seeds with a finished from-scratch retraining under retrainedTop1's protocol: retrainedTop1.n." }) retrainedRuns!: number;
  @Field(() => Float, { nullable: true, description: 'test top-1 of this configuration sliced from the supernet, BN recalibrated on training images' })
  inheritedTop1!: number | null;
  @Field(() => DateTime) createdAt!: Date;
}

@ObjectType('Interval', { description: 'An estimate with its two-sided interval at `confidence`; low and high are null when n is too small for one.' })
export class IntervalType {
  @Field(() => Float) estimate!: number;
  @Field(() => Float, { nullable: true }) low!: number | null;
  @Field(() => Float, { nullable: true }) high!: number | null;
  @Field(() => Int, { description: 'How many values (seeds, configurations) it rests on.' }) n!: number;
  @Field(() => Float) confidence!: number;
}

@ObjectType({ description: 'What makes retrained accuracies comparable: the dataset the runs trained on and the recipe they followed, seeds aside.' })
export class RetrainingProtocol {
  @Field(() => ID, { nullable: true, description: 'Null for runs recorded before their dataset was.' }) datasetId!: string | null;
  @Field(() => JSON) recipe!: Record<string, unknown>;
}

@ObjectType({ description: 'An AutoSlim candidate against the uniform-width baseline of its budget, retrained from scratch with the same seeds and protocol.' })
export class BaselineComparison {
  @Field(() => Candidate, { description: 'The UNIFORM candidate of the same search space whose cost in `metric` is closest to, and not above, the budget.' })
  baseline!: Candidate;
  @Field(() => CostMetric, { description: "PARAMS under a PARAMS trajectory; MACS otherwise (MACS and LATENCY trajectories, candidates without a target)." })
  metric!: CostMetric;
  @Field(() => Float, {
    description: "In `metric`: the candidate's target under a MACS or PARAMS trajectory; its own MACs under a LATENCY trajectory or without a target.",
  })
  budget!: number;
  @Field(() => RetrainingProtocol, {
    nullable: true,
    description: "The protocol of the candidate's from-scratch retraining that finished last; both sides count only runs of it. Null before the candidate has one.",
  })
  protocol!: RetrainingProtocol | null;
  @Field(() => IntervalType, {
    nullable: true,
    description: "This candidate's from-scratch test top-1 minus the baseline's, paired by seed (the seeds both have under `protocol`); null when they share none.",
  })
  difference!: IntervalType | null;
  @Field(() => Verdict, { description: 'INSUFFICIENT when there is no interval: fewer than two shared seeds.' }) verdict!: Verdict;
}

@ObjectType({ description: "A configuration's score from the supernet: accuracy and loss on the search hold-out under one BN mode." })
export class SupernetScore {
  @Field(() => BnMode) bnMode!: BnMode;
  @Field(() => Float) accuracy!: number;
  @Field(() => Float) loss!: number;
}

@ObjectType({ description: 'One configuration of a ranking study: how the supernet scores it, and what retraining it gives.' })
export class RankingStudyConfig {
  @Field(() => StudyConfigOrigin) origin!: StudyConfigOrigin;
  @Field(() => [SupernetScore], { description: "One per BN mode once the study's evaluation has succeeded; empty until then." })
  scores!: SupernetScore[];
}

@ObjectType({
  description:
    "How well the supernet's scores under one BN mode rank the configurations as retraining does: Kendall's τ-b and Spearman's ρ between score (accuracy) and mean retrained top-1, each with a 95% bootstrap interval that resamples the configurations (2,000 resamples, seeded).",
})
export class RankCorrelation {
  @Field(() => BnMode) bnMode!: BnMode;
  @Field(() => Int, { description: 'Configurations with both a score and at least one finished retraining run.' }) configs!: number;
  @Field(() => IntervalType, { nullable: true, description: 'Null below two configurations, or when the scores or the accuracies are all equal; no interval below three.' })
  kendallTau!: IntervalType | null;
  @Field(() => IntervalType, { nullable: true, description: 'Null below two configurations, or when the scores or the accuracies are all equal; no interval below three.' })
  spearmanRho!: IntervalType | null;
}

@ObjectType({ description: 'Whether the supernet ranks configurations as retraining from scratch does (see RankCorrelation).' })
export class RankingStudy {
  @Field(() => ID) id!: string;
  @Field(() => [Int]) seeds!: number[];
  @Field(() => JSON, { description: 'The retraining recipe, as every run of the study stores it.' }) recipe!: Record<string, unknown>;
  @Field(() => Int) sampledConfigs!: number;
  @Field(() => Int) sampleSeed!: number;
  @Field(() => Int) evalBatchSize!: number;
  @Field(() => Int) evalSeed!: number;
  @Field(() => Int) evalBatches!: number;
  @Field(() => Int) calibrationImages!: number;
  @Field(() => Int) calibrationSeed!: number;
  @Field(() => DateTime) createdAt!: Date;
}

@ObjectType()
export class CandidateEdge {
  @Field(() => String) cursor!: string;
  @Field(() => Candidate) node!: Candidate;
}

@ObjectType()
export class PageInfo {
  @Field(() => Boolean) hasNextPage!: boolean;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

@ObjectType()
export class CandidateConnection {
  @Field(() => [CandidateEdge]) edges!: CandidateEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int) totalCount!: number;
}

@ObjectType({ description: 'Queued work, run by an executor plugin that declares its kind.' })
export class Job {
  @Field(() => ID) id!: string;
  @Field(() => ID) projectId!: string;
  @Field(() => JobKind) kind!: JobKind;
  @Field(() => JobState) state!: JobState;
  @Field(() => Int, { description: 'How many times a worker has started it.' }) attempts!: number;
  @Field(() => Int) maxAttempts!: number;
  @Field(() => Float, { description: 'Fraction done, 0 to 1.' }) progress!: number;
  @Field(() => String, { nullable: true }) progressMessage!: string | null;
  @Field(() => String, { nullable: true }) error!: string | null;
  @Field(() => Boolean) cancelRequested!: boolean;
  @Field(() => String, { nullable: true }) executorName!: string | null;
  @Field(() => String, { nullable: true }) backend!: string | null;
  @Field(() => String, { nullable: true }) provider!: string | null;
  @Field(() => String, { nullable: true }) device!: string | null;
  @Field(() => String, { nullable: true, description: 'Why the executor runs on this backend.' })
  executorNote!: string | null;
  @Field(() => JSON) payload!: Record<string, unknown>;
  @Field(() => JSON, { nullable: true }) result!: unknown;
  @Field(() => String, { nullable: true, description: 'The entity the job works on.' }) subjectType!: string | null;
  @Field(() => ID, { nullable: true }) subjectId!: string | null;
  @Field(() => DateTime) createdAt!: Date;
  @Field(() => DateTime, { nullable: true }) startedAt!: Date | null;
  @Field(() => DateTime, { nullable: true }) finishedAt!: Date | null;
  @Field(() => DateTime, { nullable: true }) heartbeatAt!: Date | null;
  @Field(() => ID, { nullable: true, description: 'The worker holding it while RUNNING.' }) workerId!: string | null;
  @Field(() => DateTime, { nullable: true, description: 'When the running attempt\'s lease runs out unless its worker heartbeats; then the job is requeued.' })
  leaseExpiresAt!: Date | null;
  @Field(() => String, { nullable: true, description: 'The latency device it must run on, if any.' }) deviceFingerprint!: string | null;
}

@ObjectType({ description: 'A registered executor plugin instance and what it runs on.' })
export class Executor {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => String) workerId!: string;
  @Field(() => [JobKind]) kinds!: JobKind[];
  @Field(() => String) backend!: string;
  @Field(() => String) provider!: string;
  @Field(() => String) device!: string;
  @Field(() => JSON) versions!: Record<string, string>;
  @Field(() => String, { nullable: true }) note!: string | null;
  @Field(() => String) host!: string;
  @Field(() => Int) pid!: number;
  @Field(() => DateTime) lastSeenAt!: Date;
  @Field(() => Boolean) online!: boolean;
}

@ObjectType({ description: 'One lease of a job: which worker held it, from when to when, and how it ended.' })
export class JobAttempt {
  @Field(() => Int) attempt!: number;
  @Field(() => ID) workerId!: string;
  @Field(() => String) executorName!: string;
  @Field(() => DateTime) claimedAt!: Date;
  @Field(() => DateTime, { description: 'The lease\'s last expiry: extended by every heartbeat.' }) leaseExpiresAt!: Date;
  @Field(() => DateTime, { nullable: true }) endedAt!: Date | null;
  @Field(() => AttemptOutcome) outcome!: AttemptOutcome;
  @Field(() => String, { nullable: true }) error!: string | null;
}

@ObjectType({ description: 'A worker process that runs executor plugins for this server, here or on another machine.' })
export class Worker {
  @Field(() => ID) id!: string;
  @Field(() => String) host!: string;
  @Field(() => Int) pid!: number;
  @Field(() => String, { description: 'slimlab version of the worker.' }) version!: string;
  @Field(() => [String], { description: 'Its executor plugins, in preference order.' }) plugins!: string[];
  @Field(() => Int, { description: 'Jobs it runs at once.' }) concurrency!: number;
  @Field(() => DateTime) startedAt!: Date;
  @Field(() => DateTime) lastHeartbeatAt!: Date;
  @Field(() => DateTime, { nullable: true, description: 'When it stopped gracefully.' }) stoppedAt!: Date | null;
  @Field(() => Boolean, { description: 'It heartbeated within the lease time and has not stopped.' }) online!: boolean;
}

@ObjectType()
export class MetricValue {
  @Field(() => Int) step!: number;
  @Field(() => Float) value!: number;
  @Field(() => DateTime, { nullable: true }) wallTime!: Date | null;
}

@ObjectType({ description: 'One metric of a run, downsampled to at most maxPoints points.' })
export class MetricSeries {
  @Field(() => String) key!: string;
  @Field(() => Int, { description: 'Points stored, before downsampling.' }) totalPoints!: number;
  @Field(() => [MetricValue]) points!: MetricValue[];
}

@ObjectType()
export class MetricSample {
  @Field(() => String) name!: string;
  @Field(() => Int) step!: number;
  @Field(() => Float) value!: number;
}

@ObjectType({ description: 'Metrics a training run just reported.' })
export class TrainingProgress {
  @Field(() => ID) runId!: string;
  @Field(() => [MetricSample]) points!: MetricSample[];
}

@ObjectType()
export class LayerCost {
  @Field(() => String) name!: string;
  @Field(() => String) op!: string;
  @Field(() => Float) macs!: number;
  @Field(() => Float) params!: number;
}

@ObjectType({ description: 'MACs and params of one channel configuration.' })
export class Profile {
  @Field(() => Float) macs!: number;
  @Field(() => Float) params!: number;
  @Field(() => [LayerCost]) perLayer!: LayerCost[];
}

@ObjectType()
export class Architecture {
  @Field(() => String) name!: string;
  @Field(() => String) description!: string;
  @Field(() => Int) defaultInputSize!: number;
  @Field(() => Int) inputChannels!: number;
  @Field(() => Int) defaultNumClasses!: number;
  @Field(() => Float) defaultStartWidth!: number;
}

@ObjectType({ description: 'Where latency is measured: one machine with one runtime setup (provider, thread count).' })
export class Device {
  @Field(() => ID) id!: string;
  @Field(() => String, { description: 'sha256 of host, CPU, cores, runtime, provider, threads and versions.' }) fingerprint!: string;
  @Field(() => String) host!: string;
  @Field(() => String) cpuModel!: string;
  @Field(() => Int) cores!: number;
  @Field(() => Int, { description: 'Intra-op threads of every measurement.' }) threads!: number;
  @Field(() => String) runtime!: string;
  @Field(() => String) provider!: string;
  @Field(() => String) os!: string;
  @Field(() => JSON) versions!: Record<string, string>;
  @Field(() => String, { nullable: true, description: 'CPUs the probe may run on, e.g. "1" under taskset -c 1.' }) affinity!: string | null;
  @Field(() => String, { nullable: true }) note!: string | null;
  @Field(() => DateTime) lastSeenAt!: Date;
  @Field(() => DateTime) createdAt!: Date;
}

@ObjectType()
export class LatencyValidationRow {
  @Field(() => [Int]) channels!: number[];
  @Field(() => Float) predictedMs!: number;
  @Field(() => Float) measuredMs!: number;
  @Field(() => Float, { description: 'predicted / measured − 1.' }) error!: number;
}

@ObjectType({ description: 'Predicted against measured latency on configs spread over the cost range that the calibration did not use.' })
export class LatencyValidation {
  @Field(() => Int) configs!: number;
  @Field(() => Float, { description: 'Mean absolute percentage error, as a fraction.' }) mape!: number;
  @Field(() => Float, { description: 'Share of configs predicted within ±5%.' }) within5!: number;
  @Field(() => Float, { description: 'Share of configs predicted within ±10%.' }) within10!: number;
  @Field(() => Float, { nullable: true, description: "Kendall's τ-b between predicted and measured latency: how well the table orders configurations. Null below two configs." })
  kendallTau!: number | null;
  @Field(() => Float, { description: 'MAPE of the plain sum of blocks plus the empty model.' }) uncalibratedMape!: number;
  @Field(() => [LatencyValidationRow]) rows!: LatencyValidationRow[];
}

@ObjectType({
  description: 'Per-block latencies of a search space on a device; predicted latency = overheadMs + a coefficient per kind of block (pointwise, depthwise, other conv, other; each in NCHWc or plain NCHW) × that kind\'s summed block latency + a cost per value converted between layouts, fit on calibration models.',
})
export class LatencyTable {
  @Field(() => ID) id!: string;
  @Field(() => Int, { description: 'Counts up per device and search space.' }) version!: number;
  @Field(() => Int) batchSize!: number;
  @Field(() => Int) threads!: number;
  @Field(() => Int, { nullable: true, description: 'Widths measured per unit axis of each kind (multiples of 16 and the others); null: every width.' }) gridPoints!: number | null;
  @Field(() => Int, { description: 'Passes over every block and model; each keeps its quietest (fastest) pass.' }) rounds!: number;
  @Field(() => Int) blocks!: number;
  @Field(() => Int, { description: 'Distinct block shapes timed.' }) measurements!: number;
  @Field(() => Float, { description: 'Latency of a model that only reads the input.' }) emptyModelMs!: number;
  @Field(() => Float, { description: 'Fixed per-inference overhead: the intercept of the fit on calibration models.' }) overheadMs!: number;
  @Field(() => Float, { description: "The fit's scale on the sum of block latencies: its per-kind coefficients averaged, weighted by the widest config's blocks." })
  scale!: number;
  @Field(() => Int) calibrationConfigs!: number;
  @Field(() => Float) buildSeconds!: number;
  @Field(() => Float, { description: 'Predicted latency of the narrowest config.' }) predictedMinMs!: number;
  @Field(() => Float, { description: 'Predicted latency of the widest config.' }) predictedMaxMs!: number;
  @Field(() => DateTime) createdAt!: Date;
}

@ObjectType({ description: 'One configuration timed on one device.' })
export class LatencyMeasurement {
  @Field(() => ID) id!: string;
  @Field(() => [Int]) channels!: number[];
  @Field(() => String) configHash!: string;
  @Field(() => Int) batchSize!: number;
  @Field(() => Float) medianMs!: number;
  @Field(() => Float) p10Ms!: number;
  @Field(() => Float) p90Ms!: number;
  @Field(() => Float) meanMs!: number;
  @Field(() => Float) stdMs!: number;
  @Field(() => Int) warmupRuns!: number;
  @Field(() => Int) timedRuns!: number;
  @Field(() => Int, { description: 'More than 1 when the spread (p90 / p10) was too wide and it was measured again.' }) attempts!: number;
  @Field(() => Boolean, { description: 'Even the last attempt was too noisy; the least noisy one is kept.' }) noisy!: boolean;
  @Field(() => Float, { nullable: true, description: 'The latest table\'s prediction, if one existed.' }) predictedMs!: number | null;
  @Field(() => Float, {
    nullable: true,
    description:
      'The config timed against that table\'s speed reference, in the table\'s milliseconds: its latency with the machine\'s speed drift taken out, as the table measures, to compare with predictedMs. medianMs is the machine\'s own time, drift included. Null without a table, or with one built before tables had a reference.',
  })
  undisturbedMs!: number | null;
  @Field(() => DateTime) createdAt!: Date;
}

@ObjectType({ description: 'Someone who signs in; admins see and manage every project, user and token.' })
export class User {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => Boolean) admin!: boolean;
  @Field(() => Boolean, { description: 'Whether the user can sign in with a password (otherwise only with tokens).' }) hasPassword!: boolean;
  @Field(() => DateTime, { nullable: true, description: 'A disabled user\'s tokens and sessions stop working.' }) disabledAt!: Date | null;
  @Field(() => DateTime) createdAt!: Date;
}

@ObjectType({ description: 'A member of a project and their role.' })
export class ProjectMember {
  @Field(() => User) user!: User;
  @Field(() => ProjectRole) role!: ProjectRole;
  @Field(() => DateTime) createdAt!: Date;
}

@ObjectType({ description: 'An API token; the token itself is shown only once, when it is created.' })
export class ApiToken {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => String, { description: 'The first characters of the token, to tell tokens apart.' }) prefix!: string;
  @Field(() => [TokenScope]) scopes!: TokenScope[];
  @Field(() => User) user!: User;
  @Field(() => DateTime) createdAt!: Date;
  @Field(() => DateTime, { nullable: true }) expiresAt!: Date | null;
  @Field(() => DateTime, { nullable: true }) lastUsedAt!: Date | null;
  @Field(() => DateTime, { nullable: true }) revokedAt!: Date | null;
}

@ObjectType({ description: 'A new token and its secret, which the server keeps only as a hash: store it now.' })
export class CreatedToken {
  @Field(() => ApiToken) token!: ApiToken;
  @Field(() => String, { description: 'Send as Authorization: Bearer <secret>.' }) secret!: string;
}
