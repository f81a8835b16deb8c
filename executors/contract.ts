/**
 * The executor plugin contract. A plugin declares the job kinds it runs and probes what it can
 * use; the worker hands it a job with a context. A plugin never touches the database or pub/sub:
 * it reports, and the server persists and publishes. That is what lets the same plugin run
 * in-process or in a remote worker.
 */

export const JOB_KINDS = ['TRAIN_SUPERNET', 'SLIM', 'RETRAIN', 'PROFILE_LATENCY', 'EVALUATE', 'EXPORT'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** What a plugin found it can run on, recorded on every job it runs. */
export interface ExecutorCapabilities {
  /** e.g. 'wasm', 'tensorflow-gpu', 'onnxruntime-cpu'. */
  readonly backend: string;
  /** Execution provider or device class, e.g. 'cpu', 'cuda'. */
  readonly provider: string;
  /** Human-readable device, e.g. the CPU model. */
  readonly device: string;
  readonly versions: Readonly<Record<string, string>>;
  /** Why this backend was chosen over a preferred one, when it was a fallback. */
  readonly note?: string;
  /** Set by a latency probe: the device its measurements belong to; jobs for it are claimed only here. */
  readonly latencyDevice?: DeviceProfile;
}

/** Where latency is measured: a machine with one runtime setup, identified by a stable fingerprint. */
export interface DeviceProfile {
  /** sha256 hex of what makes timings comparable: host, CPU, cores, runtime, provider, threads, versions. */
  readonly fingerprint: string;
  readonly host: string;
  readonly cpuModel: string;
  readonly cores: number;
  /** Intra-op threads every measurement on this device uses. */
  readonly threads: number;
  readonly runtime: string;
  readonly provider: string;
  readonly os: string;
  readonly versions: Readonly<Record<string, string>>;
  /** CPUs the process may run on (Linux), e.g. '0-1', or '1' when started under taskset. */
  readonly affinity: string | null;
  readonly note: string | null;
}

export interface JobSpec<P = unknown> {
  readonly id: string;
  readonly kind: JobKind;
  /** 1 on the first run; a retried or requeued job runs with a higher attempt. */
  readonly attempt: number;
  /** JSON the owning service prepared: everything the plugin needs, ids already resolved. */
  readonly payload: P;
  /**
   * The last state the plugin saved through `ctx.saveState` on an earlier attempt, so a job
   * restarted after a crash or cancel resumes instead of starting over.
   */
  readonly resumeState: unknown | null;
}

export interface MetricSample {
  readonly name: string;
  readonly step: number;
  readonly value: number;
}

export interface ArtifactRef {
  readonly id: string;
  readonly uri: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** Where stored bytes are: the server's uri, and the digest a remote worker fetches and checks them by. */
export interface BlobRef {
  readonly uri: string;
  readonly sha256: string;
}

export interface ArtifactStore {
  put(kind: string, name: string, data: Buffer): Promise<ArtifactRef>;
  read(ref: BlobRef): Promise<Buffer>;
}

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

/** One proposal of a greedy step: its unit slimmed by one group, and how it scored. */
export interface SlimmingProposalReport {
  readonly unitIndex: number;
  readonly score: number;
  readonly accuracy: number;
  readonly cost: number;
  /** Accuracy on the screening batch, when the step was screened; null otherwise. */
  readonly screenAccuracy?: number | null;
  /** The screening ruled it out: `accuracy` is the screening's and it could not win. */
  readonly screenedOut?: boolean;
}

/** One greedy step as the SLIM executor reports it; step 0 is the widest config. */
export interface SlimmingStepReport {
  readonly index: number;
  readonly unitIndex: number | null;
  readonly unitName: string | null;
  readonly channels: readonly number[];
  readonly macs: number;
  readonly params: number;
  readonly predictedLatencyMs: number | null;
  readonly score: number;
  readonly accuracy: number;
  readonly accuracyDrop: number;
  readonly proposals: readonly SlimmingProposalReport[];
}

/**
 * A domain event a plugin reports; the server persists it (in one transaction) and publishes it.
 * Reports are idempotent: a resumed job may report a step or a checkpoint again.
 */
export type ExecutorEvent =
  | { readonly type: 'metrics'; readonly runId: string; readonly points: readonly MetricSample[] }
  | { readonly type: 'checkpoint'; readonly runId: string; readonly artifact: ArtifactRef; readonly step: number }
  | { readonly type: 'runSummary'; readonly runId: string; readonly summary: Readonly<Record<string, number>> }
  | { readonly type: 'slimmingStep'; readonly trajectoryId: string; readonly step: SlimmingStepReport }
  | {
      readonly type: 'candidate';
      readonly trajectoryId: string;
      readonly target: number;
      readonly channels: readonly number[];
      readonly searchAccuracy: number;
      /** The index of the greedy step that reached the configuration. */
      readonly step: number;
      /** The latency table's prediction, on trajectories under a latency budget. */
      readonly predictedLatencyMs?: number;
    }
  | {
      readonly type: 'evaluationStats';
      readonly trajectoryId: string;
      readonly evaluations: number;
      readonly cacheHits: number;
      readonly evalSeconds: number;
    }
  | { readonly type: 'latencyTable'; readonly searchSpaceId: string; readonly artifact: ArtifactRef; readonly summary: LatencyTableSummary }
  | { readonly type: 'latencyMeasured'; readonly measurement: LatencyMeasurementReport }
  | { readonly type: 'log'; readonly level: 'info' | 'warn'; readonly message: string };

/** Latency timing statistics of one model, in milliseconds. */
export interface LatencyStats {
  readonly medianMs: number;
  readonly p10Ms: number;
  readonly p90Ms: number;
  readonly meanMs: number;
  readonly stdMs: number;
  readonly warmupRuns: number;
  readonly timedRuns: number;
  /** Measurements taken: more than 1 when the spread (p90 / p10) said the machine was too noisy. */
  readonly attempts: number;
  /** Even the last attempt was too noisy; the least noisy one is reported. */
  readonly noisy: boolean;
}

export interface LatencyMeasurementReport {
  readonly searchSpaceId: string;
  readonly candidateId: string | null;
  readonly channels: readonly number[];
  readonly batchSize: number;
  readonly stats: LatencyStats;
  /** The latest latency table's prediction for this config on this device, if one exists. */
  readonly predictedMs: number | null;
  /**
   * The config timed against that table's speed reference, in the table's milliseconds: its latency
   * with the machine's drift taken out, as the table's build would have measured it, to set beside
   * predictedMs. Null without a table, or with one built before tables had a reference.
   */
  readonly undisturbedMs: number | null;
}

/** Predicted against measured latency over configs the table was not calibrated on. */
export interface LatencyValidation {
  readonly configs: number;
  /** Mean absolute percentage error, as a fraction. */
  readonly mape: number;
  readonly within5: number;
  readonly within10: number;
  /** Kendall's τ-b of predicted and measured; null when it is undefined (fewer than two configs, or ties only). */
  readonly kendallTau: number | null;
  /** The same MAPE for the plain sum of blocks plus the empty model, before calibration. */
  readonly uncalibratedMape: number;
  readonly rows: readonly { readonly channels: readonly number[]; readonly predictedMs: number; readonly measuredMs: number }[];
}

/** What the server keeps of a built table (the artifact holds every block). */
export interface LatencyTableSummary {
  readonly batchSize: number;
  readonly threads: number;
  /** Widths measured per unit axis; null: every width the search space allows. */
  readonly gridPoints: number | null;
  /** Passes over every block shape and every whole model; each value is its quietest (fastest) pass. */
  readonly rounds: number;
  readonly blocks: number;
  /** Distinct block shapes timed. */
  readonly measurements: number;
  /** Latency of a model that only reads the input: what any inference costs. */
  readonly emptyModelMs: number;
  /**
   * The calibration's intercept, and its scale on the sum of block latencies (with one coefficient
   * per kind of block, their mean weighted by the widest configuration's blocks).
   */
  readonly overheadMs: number;
  readonly scale: number;
  readonly calibrationConfigs: number;
  readonly buildSeconds: number;
  /** Predicted latency of the narrowest and the widest config. */
  readonly predictedMinMs: number;
  readonly predictedMaxMs: number;
  readonly validation: LatencyValidation;
}

export interface JobContext {
  /** Aborted when the job is cancelled or the worker shuts down; stop promptly and throw. */
  readonly signal: AbortSignal;
  /** Fraction in [0, 1] and an optional human-readable stage. */
  progress(fraction: number, message?: string): Promise<void>;
  report(event: ExecutorEvent): Promise<void>;
  /** Persist resumable state; a later attempt receives it as `JobSpec.resumeState`. */
  saveState(state: unknown): Promise<void>;
  readonly artifacts: ArtifactStore;
  readonly log: Logger;
}

export interface ExecutorPlugin {
  readonly name: string;
  readonly kinds: readonly JobKind[];
  /** Detects what this plugin can use here; called once when the plugin is registered. */
  probe(): Promise<ExecutorCapabilities>;
  /** Runs one job to completion; its resolved value is stored as the job's result. */
  run(job: JobSpec, ctx: JobContext): Promise<unknown>;
}
