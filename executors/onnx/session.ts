/**
 * ONNX Runtime sessions for evaluation graphs, and the choice of execution provider.
 * Creating a session with the CUDA provider throws when its libraries are missing (ORT does not
 * fall back by itself), so CUDA is probed once per process and the outcome is recorded.
 */
import * as ort from 'onnxruntime-node';
import type { TensorShape } from '../../autoslim/graph';
import { METRIC_OUTPUTS, metricOutputName } from './metrics-head';
import { OnnxGraphBuilder } from './proto';

/** A provider sessions run on. */
export type ProviderName = 'cuda' | 'cpu';

/** What the operator asks for: 'auto' takes CUDA when it loads, else the CPU, and says nothing more. */
export type ProviderChoice = 'auto' | ProviderName;

export const PROVIDER_CHOICES: readonly ProviderChoice[] = ['auto', 'cuda', 'cpu'];

export interface SessionSettings {
  readonly provider: ProviderName;
  /** ORT intra-op threads; on the CPU provider, the cores one evaluation uses. */
  readonly threads: number;
}

/** Images with labels, validated once: see labelledImages. */
export interface LabelledImages {
  /** NCHW, count × channels × height × width values. */
  readonly images: Float32Array;
  readonly labels: BigInt64Array;
  readonly shape: TensorShape;
  readonly count: number;
}

export interface EvaluationResult {
  /** Correct top-1 and top-5 predictions. */
  readonly top1: number;
  readonly top5: number;
  /** Cross-entropy summed over the images. */
  readonly loss: number;
  readonly count: number;
}

export function labelledImages(images: Float32Array, labels: ArrayLike<number>, shape: TensorShape): LabelledImages {
  const perImage = shape.channels * shape.height * shape.width;
  if (labels.length === 0) throw new Error('labels: must not be empty');
  if (images.length !== labels.length * perImage) {
    throw new Error(`images: must hold labels.length × ${perImage} values (NCHW), holds ${images.length}`);
  }
  const asInt64 = new BigInt64Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    if (!Number.isInteger(labels[i]) || labels[i] < 0) throw new Error(`labels[${i}]: must be a class index, is ${labels[i]}`);
    asInt64[i] = BigInt(labels[i]);
  }
  return { images, labels: asInt64, shape, count: labels.length };
}

/** Which provider this machine runs, and why not the requested one if it fell back. */
export async function resolveProvider(requested: ProviderChoice): Promise<{ readonly provider: ProviderName; readonly note?: string }> {
  if (requested === 'cpu') return { provider: 'cpu' };
  const failure = await cudaFailure();
  if (failure === null) return { provider: 'cuda' };
  if (requested === 'auto') return { provider: 'cpu' };
  return { provider: 'cpu', note: `CUDA execution provider unavailable, ran on CPU: ${failure}` };
}

/** One line for the operator: the provider chosen, and why CUDA was not when it was asked for. */
export async function describeProvider(requested: ProviderChoice): Promise<string> {
  const failure = requested === 'cpu' ? null : await cudaFailure();
  const chosen = requested !== 'cpu' && failure === null ? 'CUDA' : 'the CPU';
  return `ONNX Runtime runs on ${chosen} (SLIMLAB_ORT_PROVIDER=${requested}${failure === null ? '' : `; CUDA did not load: ${failure}`})`;
}

let cudaProbe: Promise<string | null> | null = null;

/** Why the CUDA provider cannot open a session here, or null when it can; probed once per process. */
function cudaFailure(): Promise<string | null> {
  cudaProbe ??= (async () => {
    // A missing CUDA library is ORT's most common "error": it prints it in red on every attempt,
    // through its process-wide logger, which only this level silences. The probe's outcome is
    // reported instead; sessions keep their own error logging (logSeverityLevel below).
    ort.env.logLevel = 'fatal';
    try {
      const probe = await ort.InferenceSession.create(probeModel(), { executionProviders: ['cuda'], logSeverityLevel: 4 });
      await probe.release();
      return null;
    } catch (error) {
      return firstLine(error);
    }
  })();
  return cudaProbe;
}

/** An ORT session on the settings' provider and threads, fully optimized, logging only errors. */
export function openSession(model: Uint8Array, settings: SessionSettings): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model, {
    executionProviders: [settings.provider],
    intraOpNumThreads: settings.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
}

/**
 * A session of one evaluation graph, run over labelled images in batches. `heads` is the number
 * of configurations the graph scores side by side (buildJointMetricsModel); 1 for buildModel's.
 */
export class MetricsSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly heads: number,
  ) {}

  static async open(model: Uint8Array, settings: SessionSettings, heads = 1): Promise<MetricsSession> {
    if (!Number.isInteger(heads) || heads < 1) throw new Error(`heads: must be a positive integer, is ${heads}`);
    return new MetricsSession(await openSession(model, settings), heads);
  }

  /**
   * Runs once on zeros of the exact batch shape, so one-time work (cuDNN's exhaustive algorithm
   * search, memory planning) is not charged to the first real batch.
   */
  async warmUp(shape: TensorShape, batch: number, extraFeeds: Record<string, Float32Array> = {}): Promise<void> {
    const zeros: LabelledImages = {
      images: new Float32Array(batch * shape.channels * shape.height * shape.width),
      labels: new BigInt64Array(batch),
      shape,
      count: batch,
    };
    await this.run(zeros, batch, extraFeeds);
  }

  /**
   * Evaluates in batches of `batch` images; a final shorter batch runs at its own size (and, with
   * batch-statistics BN, on its own statistics). `extraFeeds` are [1, C, 1, 1] inputs such as masks.
   */
  async run(data: LabelledImages, batch: number, extraFeeds: Record<string, Float32Array> = {}): Promise<EvaluationResult> {
    return (await this.runHeads(data, batch, extraFeeds))[0]!;
  }

  /** `run` for a graph of several heads: one result per head, in order. */
  async runHeads(data: LabelledImages, batch: number, extraFeeds: Record<string, Float32Array> = {}): Promise<EvaluationResult[]> {
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`batch: must be a positive integer, is ${batch}`);
    const { channels, height, width } = data.shape;
    const perImage = channels * height * width;
    const constant: Record<string, ort.Tensor> = {};
    for (const [name, values] of Object.entries(extraFeeds)) constant[name] = new ort.Tensor('float32', values, [1, values.length, 1, 1]);
    const totals = Array.from({ length: this.heads }, () => ({ top1: 0, top5: 0, loss: 0 }));
    for (let start = 0; start < data.count; start += batch) {
      const n = Math.min(batch, data.count - start);
      const outputs = await this.session.run({
        ...constant,
        input: new ort.Tensor('float32', data.images.subarray(start * perImage, (start + n) * perImage), [n, channels, height, width]),
        labels: new ort.Tensor('int64', data.labels.subarray(start, start + n), [n]),
      });
      totals.forEach((sums, head) => {
        for (const metric of METRIC_OUTPUTS) sums[metric] += Number(outputs[metricOutputName(metric, head, this.heads)]!.data[0]);
      });
    }
    return totals.map((sums) => ({ ...sums, count: data.count }));
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

function probeModel(): Uint8Array {
  const b = new OnnxGraphBuilder();
  b.alias(b.op('Relu', [b.input({ name: 'x', type: 'float32', dims: [1] })]), 'y');
  b.output({ name: 'y', type: 'float32', dims: [1] });
  return b.encode('probe');
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
