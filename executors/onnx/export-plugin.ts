/**
 * The EXPORT job: one configuration as a standalone ONNX file. Weights are first-k slices of a
 * supernet checkpoint (or a retrained network's own), BN running statistics are recalibrated on
 * training images for exactly this configuration, then kept as BatchNormalization or folded into
 * the convs. The graph normalizes its input itself, as the weights' training did (with the
 * statistics of the dataset they were trained on, whichever dataset lends the calibration and
 * test images), so the file runs in any ONNX runtime on pixels in [0, 1]. Before the file is
 * stored, its MACs and params are recounted from the graph and must equal the profiler's, and its
 * test accuracy is measured with the exported file itself.
 */
import * as ort from 'onnxruntime-node';
import { buildGraph, parseChannelList, type NetworkGraph } from '../../autoslim';
import type { ArtifactRef, ExecutorCapabilities, ExecutorPlugin, JobContext, JobKind, JobSpec } from '../contract';
import { DEFAULT_TRANSFORMS, loaderSettings, openDataset, type LoaderSettings, type SplitReader, type StreamedDataset, type TransformRecord } from '../data/loader';
import type { ImageShape, Normalization } from '../data/sample';
import type { RegisteredDatasetSpec } from '../data/source';
import { resolveSearchSpace, type SearchSpaceSpec } from '../search-space';
import { SLIMLAB_VERSION } from '../version';
import { decodeSafetensors, type WeightMap } from '../weights';
import { calibrationImages } from './evaluation-data';
import { exportStandalone } from './model';
import { recalibrateBatchNorm } from './recalibrate';
import { recountCost } from './recount';
import { createEvaluator, type EvaluatorOptions, type OnnxEvaluator } from './evaluator';
import { openSession, type ProviderName, type SessionSettings } from './session';

export interface ExportPayload {
  readonly candidateId: string;
  readonly configHash: string;
  readonly searchSpace: SearchSpaceSpec;
  readonly channels: readonly number[];
  /** 'supernet': slices of a supernet checkpoint; 'retrained': a retraining run's own weights. */
  readonly weights: 'supernet' | 'retrained';
  /** The supernet or training run `weights` names; payloads queued before it was sent lack it. */
  readonly sourceId?: string;
  readonly checkpoint: { readonly uri: string; readonly sha256: string };
  /** Where the calibration and test images come from. */
  readonly dataset: RegisteredDatasetSpec;
  /**
   * The dataset the weights were trained on, whose statistics the file normalizes with; payloads
   * queued before it was sent lack it, and normalize with `dataset`'s.
   */
  readonly trainingDataset?: RegisteredDatasetSpec;
  /** The evaluation crop of the recipe the weights were trained with; payloads queued before it lack it. */
  readonly evalCropRatio?: number;
  readonly batchNorm: 'FOLDED' | 'RUNNING';
  readonly calibrationImages: number;
  readonly calibrationSeed: number;
  /** The profiler's figures for the configuration (reference convention), which the file must match. */
  readonly macs: number;
  readonly params: number;
}

export interface ExportResult {
  readonly artifact: ArtifactRef;
  readonly fileName: string;
  readonly batchNorm: ExportPayload['batchNorm'];
  readonly weights: ExportPayload['weights'];
  readonly calibrationImages: number;
  readonly macs: number;
  readonly params: number;
  readonly testTop1: number;
  readonly testImages: number;
  /** What the file expects: NCHW float32 pixels in [0, 1], `batch` dynamic. */
  readonly input: { readonly name: string; readonly shape: readonly (number | string)[] };
  readonly output: { readonly name: string; readonly shape: readonly (number | string)[] };
  readonly provider: ProviderName;
  /** What was done to the calibration and test images. */
  readonly transforms: TransformRecord;
}

const TEST_BATCH = 256;

export class OnnxExportPlugin implements ExecutorPlugin {
  readonly name = 'onnx-exporter';
  readonly kinds: readonly JobKind[] = ['EXPORT'];
  private evaluator: OnnxEvaluator | null = null;

  constructor(private readonly options: EvaluatorOptions & { readonly data?: LoaderSettings }) {}

  async probe(): Promise<ExecutorCapabilities> {
    this.evaluator = await createEvaluator(this.options);
    return this.evaluator.capabilities;
  }

  async run(job: JobSpec, ctx: JobContext): Promise<ExportResult> {
    const evaluator = this.evaluator ?? (await createEvaluator(this.options));
    const settings: SessionSettings = { provider: evaluator.provider, threads: evaluator.threads };
    if (evaluator.note) ctx.log.warn(evaluator.note);
    const payload = job.payload as ExportPayload;
    const space = resolveSearchSpace(payload.searchSpace);
    const channels = parseChannelList(space.architecture, payload.channels, space.options, space.structure);
    const graph = buildGraph(space.architecture, channels, space.options, space.structure);

    await ctx.progress(0.05, 'loading weights and calibration images');
    const weights = decodeSafetensors(await ctx.artifacts.read(payload.checkpoint)).tensors;
    const transforms = { ...DEFAULT_TRANSFORMS, evalCropRatio: payload.evalCropRatio ?? DEFAULT_TRANSFORMS.evalCropRatio };
    const loader = this.options.data ?? loaderSettings();
    const open: OpenDataset = (spec, needs) => openDataset(spec, graph.input, transforms, loader, (ref) => ctx.artifacts.read(ref), needs);
    const data = await open(payload.dataset);
    try {
      const norm = await trainingNormalization(payload, data, open);
      return await this.exportWith(payload, graph, weights, data, norm, settings, ctx, space.architecture);
    } finally {
      await data.close();
    }
  }

  private async exportWith(
    payload: ExportPayload,
    graph: NetworkGraph,
    weights: WeightMap,
    data: StreamedDataset,
    norm: Normalization,
    settings: SessionSettings,
    ctx: JobContext,
    architecture: string,
  ): Promise<ExportResult> {
    // Seen through the file's normalization, so the statistics are those of what the file's convs will see.
    const calibration = await calibrationImages(data.train, payload.calibrationImages, payload.calibrationSeed, norm);
    await ctx.progress(0.2, `recalibrating batch norm on ${calibration.images} training images`);
    const calibrated = await recalibrateBatchNorm(graph, weights, calibration.batches, settings, ctx.signal);

    await ctx.progress(0.6, 'exporting and checking the model');
    const mode = payload.batchNorm === 'FOLDED' ? 'folded' : 'running';
    const bytes = exportStandalone(graph, calibrated, mode, norm, exportMetadata(payload, graph));
    const recounted = recountCost(bytes);
    if (recounted.macs !== payload.macs || recounted.params !== payload.params) {
      throw new Error(
        `export check failed: the exported graph counts ${recounted.macs} MACs and ${recounted.params} params, the profiler ${payload.macs} and ${payload.params}`,
      );
    }
    const testTop1 = await accuracyOf(bytes, data.test, graph.input, settings, ctx.signal);

    const fileName = `${architecture}-${payload.configHash.slice(0, 12)}-${mode}.onnx`;
    const artifact = await ctx.artifacts.put('ONNX', fileName, Buffer.from(bytes));
    await ctx.progress(1, `exported ${fileName}: test top-1 ${(100 * testTop1).toFixed(2)}%`);
    const { channels: c, height, width } = graph.input;
    return {
      artifact,
      fileName,
      batchNorm: payload.batchNorm,
      weights: payload.weights,
      calibrationImages: calibration.images,
      macs: recounted.macs,
      params: recounted.params,
      testTop1,
      testImages: data.test.count,
      input: { name: 'input', shape: ['batch', c, height, width] },
      output: { name: 'logits', shape: ['batch', graph.nodes[graph.nodes.length - 1]!.outShape.channels] },
      provider: settings.provider,
      transforms: { ...data.transforms, normalization: norm },
    };
  }
}

/**
 * What the file says about itself in its metadata_props, so a file found on a disk can be traced
 * back to its candidate and weights (Netron, Python's onnx.load and ORT's get_modelmeta show them).
 */
export function exportMetadata(payload: ExportPayload, graph: NetworkGraph): Record<string, string> {
  const { channels, height, width } = graph.input;
  const source = payload.weights === 'supernet' ? 'supernet' : 'training run';
  return {
    'slimlab.candidate_id': payload.candidateId,
    'slimlab.config_hash': payload.configHash,
    'slimlab.architecture': payload.searchSpace.architecture,
    'slimlab.input': `float32 [batch, ${channels}, ${height}, ${width}], pixels in [0, 1]`,
    'slimlab.num_classes': String(payload.searchSpace.numClasses),
    'slimlab.channels': payload.channels.join(','),
    'slimlab.macs': String(payload.macs),
    'slimlab.params': String(payload.params),
    'slimlab.bn_mode': payload.batchNorm,
    'slimlab.source': payload.sourceId ? `${source} ${payload.sourceId}` : source,
    'slimlab.version': SLIMLAB_VERSION,
  };
}

type OpenDataset = (spec: RegisteredDatasetSpec, needs?: { readonly train: boolean; readonly test: boolean }) => Promise<StreamedDataset>;

/**
 * The normalization the weights were trained with: their training dataset's statistics, read
 * without reading its images when another dataset lends them.
 */
async function trainingNormalization(payload: ExportPayload, data: StreamedDataset, open: OpenDataset): Promise<Normalization> {
  const trained = payload.trainingDataset;
  if (!trained || trained.id === payload.dataset.id) return data.normalization;
  const training = await open(trained, { train: false, test: false });
  await training.close();
  return training.normalization;
}

/** Top-1 of the exported file on `set`, fed raw pixels in [0, 1] as a user of the file would. */
async function accuracyOf(model: Uint8Array, set: SplitReader, input: ImageShape, settings: SessionSettings, signal: AbortSignal): Promise<number> {
  const session = await openSession(model, settings);
  const unit = { mean: new Array<number>(input.channels).fill(0), std: new Array<number>(input.channels).fill(1) };
  const all = Uint32Array.from({ length: set.count }, (_, i) => i);
  let correct = 0;
  let seen = 0;
  try {
    for await (const batch of set.batches(all, TEST_BATCH, { norm: unit })) {
      signal.throwIfAborted();
      seen += batch.size;
      const out = await session.run({ input: new ort.Tensor('float32', batch.images, [batch.size, input.channels, input.height, input.width]) });
      const logits = out.logits!.data as Float32Array;
      const classes = logits.length / batch.size;
      for (let i = 0; i < batch.size; i++) {
        let best = 0;
        for (let k = 1; k < classes; k++) if (logits[i * classes + k]! > logits[i * classes + best]!) best = k;
        if (best === batch.labels[i]) correct++;
      }
    }
  } finally {
    await session.release();
  }
  return correct / Math.max(1, seen);
}
