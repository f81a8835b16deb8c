import type { ExecutorCapabilities, ExecutorPlugin, JobContext, JobKind, JobSpec } from '../../executors/contract';

/** What the cluster plugins read from a trainSupernet job: its run, and recipe.epochs as their step count. */
interface TrainingJobPayload {
  readonly runId: string;
  readonly recipe: { readonly epochs: number };
}

/** The metric the steps plugin reports, one point per step; its value is the attempt that reported it. */
export const ATTEMPT_METRIC = 'attempt';

export interface StepsResult {
  readonly steps: number;
  readonly resumedFromStep: number;
  readonly attempt: number;
}

abstract class TestOnlyPlugin implements ExecutorPlugin {
  abstract readonly name: string;
  readonly kinds: readonly JobKind[] = ['TRAIN_SUPERNET'];

  async probe(): Promise<ExecutorCapabilities> {
    return { backend: 'test', provider: 'cpu', device: 'test device', versions: { test: '1' }, note: 'test-only plugin' };
  }

  abstract run(job: JobSpec, ctx: JobContext): Promise<unknown>;
}

/**
 * A training stand-in whose progress is easy to audit: recipe.epochs steps of `stepMs` each, one
 * metric point per step whose value is the attempt (so a test sees which attempt wrote each step),
 * and `{ step }` saved after every step, from which a requeued job resumes.
 */
export class StepsPlugin extends TestOnlyPlugin {
  readonly name = 'steps';

  constructor(private readonly stepMs: number) {
    super();
  }

  async run(job: JobSpec, ctx: JobContext): Promise<StepsResult> {
    const { runId, recipe } = job.payload as TrainingJobPayload;
    const resumedFromStep = (job.resumeState as { step: number } | null)?.step ?? 0;
    for (let step = resumedFromStep + 1; step <= recipe.epochs; step++) {
      await abortableSleep(this.stepMs, ctx.signal);
      await ctx.report({ type: 'metrics', runId, points: [{ name: ATTEMPT_METRIC, step, value: job.attempt }] });
      await ctx.saveState({ step });
      await ctx.progress(step / recipe.epochs, `step ${step} of ${recipe.epochs}`);
    }
    return { steps: recipe.epochs, resumedFromStep, attempt: job.attempt };
  }
}

/** Succeeds at once: what is left of a job when only the protocol's own cost is measured. */
export class NoopPlugin extends TestOnlyPlugin {
  readonly name = 'noop';

  async run(): Promise<unknown> {
    return { ok: true };
  }
}

/** Metric names the stream plugin reports at every step. */
export const STREAM_METRICS = ['loss', 'lr', 'loss/narrowest', 'images_per_s'] as const;

/** Reports recipe.epochs steps of metrics as fast as the protocol takes them, as a trainer reporting every step would. */
export class StreamPlugin extends TestOnlyPlugin {
  readonly name = 'stream';

  async run(job: JobSpec, ctx: JobContext): Promise<unknown> {
    const { runId, recipe } = job.payload as TrainingJobPayload;
    for (let step = 1; step <= recipe.epochs; step++) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      await ctx.report({ type: 'metrics', runId, points: STREAM_METRICS.map((name, i) => ({ name, step, value: step + i })) });
    }
    return { points: recipe.epochs * STREAM_METRICS.length };
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
