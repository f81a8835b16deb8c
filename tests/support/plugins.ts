import type { ExecutorCapabilities, ExecutorPlugin, JobContext, JobKind, JobSpec } from '../../executors/contract';
import type { TrainingPluginOptions } from '../../executors/tfjs/plugin';

/** The real trainer, sized for tests: every step reported, small evaluations. */
export const TEST_TRAINING_OPTIONS: Partial<TrainingPluginOptions> = { reportEvery: 1, evalImages: 128, recalibrationImages: 128 };

/** A test-only executor whose jobs do what the test tells them, one decision per job. */
export class ScriptedPlugin implements ExecutorPlugin {
  readonly name: string;
  private readonly started = new Map<string, Deferred<JobContext>>();
  private readonly outcomes = new Map<string, Deferred<unknown>>();
  readonly runs: JobSpec[] = [];

  constructor(
    readonly kinds: readonly JobKind[],
    private readonly script: (job: JobSpec, ctx: JobContext, test: ScriptedPlugin) => Promise<unknown> = (job, ctx, test) =>
      test.awaitOutcome(job, ctx),
    name = 'scripted',
  ) {
    this.name = name;
  }

  async probe(): Promise<ExecutorCapabilities> {
    return { backend: 'test', provider: 'cpu', device: 'test device', versions: { test: '1' }, note: 'test-only plugin' };
  }

  async run(job: JobSpec, ctx: JobContext): Promise<unknown> {
    this.runs.push(job);
    deferred(this.started, key(job.id, job.attempt)).resolve(ctx);
    return this.script(job, ctx, this);
  }

  /** Resolves with the context of an attempt of the job once a worker has started it. */
  whenStarted(jobId: string, attempt = 1): Promise<JobContext> {
    return deferred(this.started, key(jobId, attempt)).promise;
  }

  finish(jobId: string, result: unknown = { ok: true }, attempt = 1): void {
    deferred(this.outcomes, key(jobId, attempt)).resolve(result);
  }

  fail(jobId: string, error: Error, attempt = 1): void {
    deferred(this.outcomes, key(jobId, attempt)).reject(error);
  }

  /** Waits for the test's decision, or for the abort signal, as a well-behaved executor does. */
  awaitOutcome(job: JobSpec, ctx: JobContext): Promise<unknown> {
    return new Promise((resolve, reject) => {
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
      deferred(this.outcomes, key(job.id, job.attempt)).promise.then(resolve, reject);
    });
  }
}

const key = (jobId: string, attempt: number) => `${jobId}#${attempt}`;

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(map: Map<string, Deferred<T>>, key: string): Deferred<T> {
  let entry = map.get(key);
  if (!entry) {
    let resolve!: (value: T) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined);
    entry = { promise, resolve, reject };
    map.set(key, entry);
  }
  return entry;
}
