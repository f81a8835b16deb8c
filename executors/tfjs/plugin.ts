/**
 * The training executor: TRAIN_SUPERNET (sandwich rule, in-place distillation) and RETRAIN (a
 * candidate as a fixed-width network, from scratch or from its first-k slices of a supernet
 * checkpoint). Checkpoints every epoch; a restarted job resumes from its last checkpoint at the
 * same step, data order and RNG state.
 */
import * as tf from '@tensorflow/tfjs-core';
import { buildGraph, parseChannelList, type ChannelList, type NetworkGraph } from '../../autoslim';
import type { ArtifactRef, BlobRef, ExecutorCapabilities, ExecutorPlugin, JobContext, JobKind, JobSpec, MetricSample } from '../contract';
import { DEFAULT_TRANSFORMS, loaderSettings, openDataset, type Batch as DataBatch, type LoaderSettings, type SplitReader, type Transforms } from '../data/loader';
import type { ImageShape } from '../data/sample';
import type { RegisteredDatasetSpec } from '../data/source';
import { cpuDescription } from '../device';
import { configurationWeights } from '../onnx/slice';
import { resolveSearchSpace, type ResolvedSearchSpace, type SearchSpaceSpec } from '../search-space';
import { decodeSafetensors } from '../weights';
import { selectTrainingBackend, type BackendChoice } from './backend';
import { unitTableSpace } from './config_space';
import type { DistillationMode } from './losses';
import { Rng } from '../rng';
import type { WorkerOption } from './parallel/worker_count';
import type { DecaySchedule } from './schedule';
import type { SlimmableNetwork } from './supernet';
import { Trainer, sandwichPlan, type ConfigPlan } from './trainer';
import type { Batch, StepSettings } from './train_step';

export interface TrainingRecipe {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly schedule: 'linear' | 'cosine' | 'step';
  readonly warmupEpochs: number;
  readonly labelSmoothing: number;
  readonly seed: number;
  /** Images drawn (afresh each epoch) from the training split per epoch; absent or null: all of them. */
  readonly imagesPerEpoch?: number | null;
  /** Supernet training only. */
  readonly randomConfigs?: number;
  readonly distillation?: DistillationMode;
  /** The transforms (data/loader.ts); recipes queued before they were recorded lack them. */
  readonly cropPadding?: number;
  readonly horizontalFlip?: boolean;
  readonly cropScaleMin?: number;
  readonly evalCropRatio?: number;
}

/**
 * What each training step does with the labels: in-place distillation is `soft` (the reference's)
 * unless the recipe says otherwise, as GraphQL's default is; a RETRAIN trains one config, which
 * has no teacher, whatever this says.
 */
export function stepSettings(recipe: Pick<TrainingRecipe, 'labelSmoothing' | 'distillation'>): StepSettings {
  return { labelSmoothing: recipe.labelSmoothing, distillation: recipe.distillation ?? 'soft' };
}

/** The recipe's transforms, with the defaults for what it does not say. */
export function recipeTransforms(recipe: Partial<TrainingRecipe>): Transforms {
  return {
    ...DEFAULT_TRANSFORMS,
    cropPadding: recipe.cropPadding ?? DEFAULT_TRANSFORMS.cropPadding,
    horizontalFlip: recipe.horizontalFlip ?? DEFAULT_TRANSFORMS.horizontalFlip,
    cropScale: [recipe.cropScaleMin ?? DEFAULT_TRANSFORMS.cropScale[0], 1],
    evalCropRatio: recipe.evalCropRatio ?? DEFAULT_TRANSFORMS.evalCropRatio,
  };
}

export interface TrainingPayload {
  readonly runId: string;
  readonly searchSpace: SearchSpaceSpec;
  readonly dataset: RegisteredDatasetSpec;
  readonly recipe: TrainingRecipe;
  /** RETRAIN only: the candidate's channel list. */
  readonly channels?: readonly number[];
  /** RETRAIN only: where the weights start; payloads queued before it was recorded start from scratch. */
  readonly init?: 'SCRATCH' | 'SUPERNET';
  /** init SUPERNET: the supernet checkpoint whose slices (weights and BN running statistics) the network starts from. */
  readonly initCheckpoint?: BlobRef;
}

interface ResumeState {
  readonly checkpoint: ArtifactRef;
  readonly step: number;
}

export interface TrainingPluginOptions {
  /** Metrics go to the run's history every this many steps. */
  readonly reportEvery: number;
  /** Held-out images scored at the end of each supernet epoch. */
  readonly evalImages: number;
  /** Training images whose batch statistics recalibrate BN before an evaluation. */
  readonly recalibrationImages: number;
  /** Decoder threads, cache and read-ahead of the data loader. */
  readonly data: LoaderSettings;
  /**
   * Data-parallel worker threads for training steps (parallel/worker_count.ts): 'auto' splits a
   * batch over the cores when the step is large enough to pay; 1 trains in the job's thread.
   */
  readonly workers: WorkerOption;
}

const DEFAULTS: Omit<TrainingPluginOptions, 'data'> = {
  reportEvery: 10,
  evalImages: 2000,
  recalibrationImages: 2048,
  workers: 'auto',
};

const STEP_DECAY: DecaySchedule = { kind: 'step', milestones: [0.5, 0.75], gamma: 0.1 };
const EVAL_BATCH = 500;

export class TfjsTrainingPlugin implements ExecutorPlugin {
  readonly name = 'tfjs-trainer';
  readonly kinds: readonly JobKind[] = ['TRAIN_SUPERNET', 'RETRAIN'];
  private readonly options: TrainingPluginOptions;
  private backend: BackendChoice | null = null;

  constructor(options: Partial<TrainingPluginOptions> = {}) {
    this.options = { ...DEFAULTS, data: options.data ?? loaderSettings(), ...options };
  }

  async probe(): Promise<ExecutorCapabilities> {
    this.backend = await selectTrainingBackend(() => undefined);
    return {
      backend: `tfjs-${this.backend.backend}`,
      provider: this.backend.reason.startsWith('@tensorflow/tfjs-node-gpu') ? 'cuda' : 'cpu',
      device: cpuDescription(),
      versions: { '@tensorflow/tfjs-core': tf.version_core, node: process.version },
      note: this.backend.reason,
    };
  }

  async run(job: JobSpec, ctx: JobContext): Promise<unknown> {
    const payload = job.payload as TrainingPayload;
    ctx.log.info(`training on tfjs backend ${tf.getBackend()} (${this.backend?.reason ?? 'not probed'})`);
    const space = resolveSearchSpace(payload.searchSpace);
    const { recipe } = payload;
    await ctx.progress(0, 'opening the dataset');
    const { network: graph, plan, evaluated } = planFor(job.kind, space, payload);
    const input = graph.input;
    const data = await openDataset(payload.dataset, input, recipeTransforms(recipe), this.options.data, (ref) => ctx.artifacts.read(ref));
    ctx.log.info(`images: train ${data.transforms.train}; evaluation ${data.transforms.eval}; ${data.transforms.channels}`);
    const epochImages = Math.min(recipe.imagesPerEpoch ?? data.train.count, data.train.count);
    const stepsPerEpoch = Math.ceil(epochImages / recipe.batchSize);
    const trainer = new Trainer(graph, plan, {
      schedule: {
        baseLr: recipe.learningRate,
        totalIterations: recipe.epochs * stepsPerEpoch,
        warmupIterations: Math.round(recipe.warmupEpochs * stepsPerEpoch),
        decay: recipe.schedule === 'step' ? STEP_DECAY : { kind: recipe.schedule },
      },
      step: stepSettings(recipe),
      sgd: { momentum: recipe.momentum, weightDecay: recipe.weightDecay },
      seed: recipe.seed,
      workers: this.options.workers,
    });
    try {
      const parallel = await trainer.prepare(recipe.batchSize);
      ctx.log.info(
        parallel.workers > 1
          ? `training steps split over ${parallel.workers} data-parallel workers, batch norm per shard (${parallel.reason})`
          : `training steps in the job's thread (${parallel.reason})`,
      );
      const resume = job.resumeState as ResumeState | null;
      if (resume) {
        trainer.loadState(await ctx.artifacts.read(resume.checkpoint));
        ctx.log.info(`resumed from the checkpoint of step ${trainer.step}`);
      } else if (job.kind === 'RETRAIN' && payload.init === 'SUPERNET') {
        trainer.network.importWeights(await supernetSlices(payload, graph, ctx));
        ctx.log.info("fine-tuning: weights and BN running statistics start from the candidate's slices of the supernet");
      }
      const resumedFromStep = trainer.step;
      const meter = new ThroughputMeter(recipe.batchSize);
      const scoreConfigs = async () => {
        const scores: { name: string; top1: number }[] = [];
        for (const { name, config } of evaluated) scores.push({ name, top1: (await this.score(trainer.network, config, data.train, data.search, input, this.options.evalImages)).top1 });
        return scores;
      };
      let latest: { name: string; top1: number }[] | null = null;
      let pending: MetricSample[] = [];
      for (let epoch = Math.floor(trainer.step / stepsPerEpoch); epoch < recipe.epochs; epoch++) {
        const skip = trainer.step - epoch * stepsPerEpoch;
        const order = new Rng(mix(recipe.seed, epoch)).permutation(data.train.count).subarray(0, epochImages);
        const augmentRng = new Rng(mix(recipe.seed ^ 0x5bd1e995, epoch));
        const stream = tensorBatches(data.train.batches(order, recipe.batchSize, { augment: { rng: augmentRng }, skipBatches: skip }), input);
        await trainer.train(stream, ctx.signal, async ({ step, lr, loss, configLosses }) => {
          // A step is synchronous compute; yielding lets the server answer requests between steps.
          await new Promise((resume) => setImmediate(resume));
          pending.push({ name: 'loss', step, value: loss }, { name: 'lr', step, value: lr });
          if (configLosses.length > 1) pending.push({ name: 'loss/narrowest', step, value: configLosses[1]! });
          if (step % this.options.reportEvery === 0 || step % stepsPerEpoch === 0) {
            pending.push({ name: 'images_per_s', step, value: meter.lap(step) });
            await ctx.report({ type: 'metrics', runId: payload.runId, points: pending });
            pending = [];
            await ctx.progress(step / (recipe.epochs * stepsPerEpoch), `epoch ${epoch + 1} of ${recipe.epochs}, step ${step}`);
          }
        });
        const step = trainer.step;
        const scores = job.kind === 'RETRAIN' ? [] : await scoreConfigs();
        latest = scores;
        if (scores.length > 0) {
          await ctx.report({ type: 'metrics', runId: payload.runId, points: scores.map((x) => ({ name: `heldout_top1/${x.name}`, step, value: x.top1 })) });
        }
        const checkpoint = await ctx.artifacts.put('CHECKPOINT', `run-${payload.runId}-step-${step}.safetensors`, trainer.saveState());
        // Stored together: the run's checkpoint and the state that resumes from it.
        await Promise.all([
          ctx.report({ type: 'checkpoint', runId: payload.runId, artifact: checkpoint, step }),
          ctx.saveState({ checkpoint, step } satisfies ResumeState),
        ]);
        ctx.log.info(`epoch ${epoch + 1} done at step ${step} ${scores.map((x) => `${x.name} ${(100 * x.top1).toFixed(2)}%`).join(', ')}`);
      }
      const loading = await data.stats();
      if (loading.skippedCorrupt > 0) ctx.log.warn(`${loading.skippedCorrupt} images could not be decoded and were skipped (skipCorrupt)`);
      const record = { transforms: data.transforms, skippedCorrupt: loading.skippedCorrupt, cache: loading };
      if (job.kind === 'RETRAIN') {
        const test = await this.score(trainer.network, evaluated[0]!.config, data.train, data.test, input, data.test.count);
        await ctx.report({ type: 'runSummary', runId: payload.runId, summary: { top1: test.top1, top5: test.top5, loss: test.loss } });
        return { top1: test.top1, top5: test.top5, steps: trainer.step, resumedFromStep, ...record };
      }
      const final = Object.fromEntries((latest ?? (await scoreConfigs())).map((x) => [`heldout_top1_${x.name}`, x.top1]));
      await ctx.report({ type: 'runSummary', runId: payload.runId, summary: final });
      return { ...final, steps: trainer.step, resumedFromStep, ...record };
    } finally {
      await Promise.all([trainer.dispose(), data.close()]);
    }
  }

  /**
   * Top-1, top-5 and mean loss of `config` on the first `limit` images of `set`, after its BN
   * statistics are recalibrated on training batches (a slimmable net's running statistics
   * belong to no config in particular).
   */
  private async score(network: SlimmableNetwork, config: NetworkGraph, train: SplitReader, set: SplitReader, input: ImageShape, limit: number) {
    const calibration = Array.from({ length: Math.min(train.count, this.options.recalibrationImages) }, (_, i) => i);
    const calibrationTensors: tf.Tensor4D[] = [];
    for await (const b of train.batches(calibration, 256)) calibrationTensors.push(toImages(b.images, b.size, input));
    try {
      network.recalibrateBatchNorm(config, calibrationTensors);
    } finally {
      tf.dispose(calibrationTensors);
    }
    const indices = Array.from({ length: Math.min(limit, set.count) }, (_, i) => i);
    let top1 = 0;
    let top5 = 0;
    let loss = 0;
    let seen = 0;
    for await (const b of set.batches(indices, EVAL_BATCH)) {
      seen += b.size;
      const [hit1, hit5, lossSum] = tf.tidy(() => {
        const logits = network.forward(config, toImages(b.images, b.size, input), 'running');
        const labels = tf.tensor1d(b.labels, 'int32');
        const k = Math.min(5, logits.shape[1]);
        const { indices: best } = tf.topk(logits, k);
        const matches = tf.cast(tf.equal(best, tf.expandDims(labels, 1)), 'float32');
        const first = tf.sum(tf.slice(matches, [0, 0], [-1, 1]));
        const any = tf.sum(tf.max(matches, 1));
        const nll = tf.neg(tf.sum(tf.mul(tf.oneHot(labels, logits.shape[1]), tf.logSoftmax(logits))));
        return [first.dataSync()[0]!, any.dataSync()[0]!, nll.dataSync()[0]!];
      });
      top1 += hit1;
      top5 += hit5;
      loss += lossSum;
    }
    // Over the images scored: corrupt ones skipped (skipCorrupt) are not counted as misses.
    const n = Math.max(1, seen);
    return { top1: top1 / n, top5: top5 / n, loss: loss / n };
  }
}

/** What a job trains and which configs it scores each epoch. */
function planFor(
  kind: JobKind,
  space: ResolvedSearchSpace,
  payload: TrainingPayload,
): { network: NetworkGraph; plan: ConfigPlan; evaluated: { name: string; config: NetworkGraph }[] } {
  const graphOf = (channels: ChannelList) => buildGraph(space.architecture, channels, space.options, space.structure);
  if (kind === 'RETRAIN') {
    if (!payload.channels) throw new Error('a RETRAIN job needs the candidate\'s channels');
    const channels = parseChannelList(space.architecture, payload.channels, space.options, space.structure);
    const network = graphOf(channels);
    return { network, plan: { kind: 'fixed', config: network }, evaluated: [{ name: 'candidate', config: network }] };
  }
  const configs = unitTableSpace(space.table);
  return {
    network: graphOf(space.structure),
    plan: sandwichPlan(configs, payload.recipe.randomConfigs),
    evaluated: [
      { name: 'widest', config: configs.widest },
      { name: 'narrowest', config: configs.narrowest },
    ],
  };
}

/** The candidate's first-k slices of the supernet checkpoint a SUPERNET-initialised retraining starts from. */
async function supernetSlices(payload: TrainingPayload, graph: NetworkGraph, ctx: JobContext) {
  if (!payload.initCheckpoint) throw new Error('a RETRAIN job with init SUPERNET needs initCheckpoint, the supernet checkpoint to slice');
  const { tensors, metadata } = decodeSafetensors(await ctx.artifacts.read(payload.initCheckpoint));
  if (metadata.architecture !== undefined && metadata.architecture !== graph.architecture) {
    throw new Error(`the supernet checkpoint is of architecture '${metadata.architecture}', the candidate of '${graph.architecture}'`);
  }
  return configurationWeights(tensors, graph);
}

/** NCHW floats from the data loader as the NHWC tensor tfjs convolutions take. */
function toImages(images: Float32Array, size: number, input: ImageShape): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.tensor4d(images, [size, input.channels, input.height, input.width]), [0, 2, 3, 1]));
}

/** The loader's batches as tensors, each disposed once the step used it. */
async function* tensorBatches(source: AsyncIterable<DataBatch>, input: ImageShape): AsyncGenerator<Batch> {
  for await (const b of source) {
    const images = toImages(b.images, b.size, input);
    const labels = tf.tensor1d(b.labels, 'int32');
    try {
      yield { images, labels };
    } finally {
      tf.dispose([images, labels]);
    }
  }
}

/** A seed per (base seed, epoch): each epoch has its own data order, reproducible on resume. */
function mix(seed: number, epoch: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(epoch + 1, 0xc2b2ae35)) >>> 0;
}

class ThroughputMeter {
  private lastStep = 0;
  private lastTime = performance.now();

  constructor(private readonly batchSize: number) {}

  /** Images per second since the previous lap. */
  lap(step: number): number {
    const now = performance.now();
    const rate = ((step - this.lastStep) * this.batchSize * 1000) / Math.max(1e-3, now - this.lastTime);
    this.lastStep = step;
    this.lastTime = now;
    return rate;
  }
}
