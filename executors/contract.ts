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

export interface ArtifactStore {
  put(kind: string, name: string, data: Buffer): Promise<ArtifactRef>;
  read(uri: string): Promise<Buffer>;
}

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
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
  readonly proposals: readonly { unitIndex: number; score: number; accuracy: number; cost: number }[];
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
    }
  | {
      readonly type: 'evaluationStats';
      readonly trajectoryId: string;
      readonly evaluations: number;
      readonly cacheHits: number;
      readonly evalSeconds: number;
    }
  | { readonly type: 'log'; readonly level: 'info' | 'warn'; readonly message: string };

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
