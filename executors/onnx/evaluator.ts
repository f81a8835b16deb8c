/**
 * The ONNX Runtime evaluator the platform calls: provider chosen once, then evaluation of a
 * prepared model, of one configuration, or of many configurations of one supernet.
 *
 * Two ways to evaluate the configurations of a search, both exact (tests hold them equal):
 * `evaluate` with a ConfigModel builds the sliced graph and opens a session per configuration;
 * `openSupernet` opens one max-width session once and selects configurations with masks. On the
 * CPU at batch 2048 (bench/slim.ts, mbv2-fmnist, 1.5x supernet, 2 threads) building and opening a
 * session takes only ~0.1–0.2 s, but a fresh session's first run is slow (it allocates and faults
 * in gigabytes of activations): 6.5–26.5 s per config against 4.4–5.6 s for a masked run at full
 * width. So a search uses openSupernet; `evaluate` is for one-off evaluations. `openStatistics`
 * is openSupernet's counterpart for BN recalibration (recalibrate.ts) of many configurations.
 */
import { cpus } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { NetworkGraph } from '../../autoslim/graph';
import type { ExecutorCapabilities } from '../contract';
import type { WeightMap } from '../weights';
import type { BatchNormMode } from './batch-norm';
import { CALIBRATION_BATCH } from './evaluation-data';
import { buildJointMetricsModel, buildModel, buildStatisticsModel, channelMasks, type JointMember } from './model';
import { recalibrateWith, type CalibrationBatch } from './recalibrate';
import { MetricsSession, openSession, resolveProvider, type EvaluationResult, type LabelledImages, type ProviderChoice, type ProviderName } from './session';

export interface EvaluatorOptions {
  /** Preferred provider; 'auto' and 'cuda' fall back to 'cpu' when the CUDA provider cannot load ('cuda' with a note). */
  readonly provider: ProviderChoice;
  readonly threads: number;
}

/** A configuration of a supernet: its graph at the configuration's widths and the shared weights. */
export interface ConfigModel {
  readonly graph: NetworkGraph;
  readonly weights: WeightMap;
  readonly batchNorm: BatchNormMode;
}

export interface OnnxEvaluator {
  readonly provider: ProviderName;
  readonly threads: number;
  /** Why the requested provider was not used; absent when it was. */
  readonly note?: string;
  /** What to record on a job this evaluator runs. */
  readonly capabilities: ExecutorCapabilities;
  /** Evaluates an evaluation graph (buildModel with head 'metrics') or one configuration, in its own session. */
  evaluate(model: Uint8Array | ConfigModel, data: LabelledImages, batch: number): Promise<EvaluationResult>;
  /** `evaluate` on each of several sets of images, one session for all: a result per set. */
  evaluateEach(model: Uint8Array | ConfigModel, data: readonly LabelledImages[], batch: number, signal?: AbortSignal): Promise<EvaluationResult[]>;
  /**
   * `evaluateEach` of several configurations of one search space in one session of a joint graph
   * (buildJointMetricsModel): a result per configuration and per set of images.
   */
  evaluateTogether(
    configs: readonly JointMember[],
    batchNorm: BatchNormMode,
    data: readonly LabelledImages[],
    batch: number,
    signal?: AbortSignal,
  ): Promise<EvaluationResult[][]>;
  /** Opens one session of the widest graph that evaluates every configuration through channel masks. */
  openSupernet(maxGraph: NetworkGraph, weights: WeightMap, batchNorm: BatchNormMode, batch: number): Promise<SupernetEvaluator>;
  /** Opens one statistics session of the widest graph that recalibrates BN of every configuration through channel masks. */
  openStatistics(maxGraph: NetworkGraph, weights: WeightMap): Promise<StatisticsEvaluator>;
}

export interface SupernetEvaluator {
  /** `config` must come from the same search space as the supernet's graph. */
  evaluate(config: NetworkGraph, data: LabelledImages): Promise<EvaluationResult>;
  release(): Promise<void>;
}

export interface StatisticsEvaluator {
  /** recalibrateBatchNorm of `config`, which must come from the same search space as the supernet's graph. */
  recalibrate(config: NetworkGraph, batches: readonly CalibrationBatch[], signal?: AbortSignal): Promise<WeightMap>;
  release(): Promise<void>;
}

export async function createEvaluator(options: EvaluatorOptions): Promise<OnnxEvaluator> {
  if (!Number.isInteger(options.threads) || options.threads < 1) {
    throw new Error(`threads: must be a positive integer, is ${options.threads}`);
  }
  const { provider, note } = await resolveProvider(options.provider);
  const settings = { provider, threads: options.threads };
  const noted = note === undefined ? {} : { note };
  /** Per head of `model`, its result on each set of images. */
  const runHeads = async (model: Uint8Array, heads: number, data: readonly LabelledImages[], batch: number, signal?: AbortSignal) => {
    const session = await MetricsSession.open(model, settings, heads);
    try {
      const perSet: EvaluationResult[][] = [];
      for (const images of data) {
        signal?.throwIfAborted();
        perSet.push(await session.runHeads(images, batch));
      }
      return Array.from({ length: heads }, (_, head) => perSet.map((results) => results[head]!));
    } finally {
      await session.release();
    }
  };
  const evaluateEach: OnnxEvaluator['evaluateEach'] = async (model, data, batch, signal) => {
    const bytes = model instanceof Uint8Array ? model : buildModel(model.graph, model.weights, { batchNorm: model.batchNorm, head: 'metrics', masked: false });
    return (await runHeads(bytes, 1, data, batch, signal))[0]!;
  };
  return {
    provider,
    threads: options.threads,
    ...noted,
    capabilities: {
      backend: `onnxruntime-${provider}`,
      provider,
      device: provider === 'cpu' ? `${cpus()[0]?.model ?? 'unknown CPU'}, ${options.threads} threads` : 'CUDA device 0',
      versions: { 'onnxruntime-node': ort.env.versions.node ?? 'unknown' },
      ...noted,
    },
    evaluate: async (model, data, batch) => (await evaluateEach(model, [data], batch))[0]!,
    evaluateEach,
    evaluateTogether: async (configs, batchNorm, data, batch, signal) => runHeads(buildJointMetricsModel(configs, batchNorm), configs.length, data, batch, signal),
    async openSupernet(maxGraph, weights, batchNorm, batch) {
      const session = await MetricsSession.open(buildModel(maxGraph, weights, { batchNorm, head: 'metrics', masked: true }), settings);
      await session.warmUp(maxGraph.input, batch, channelMasks(maxGraph, maxGraph));
      return {
        evaluate: (config, data) => session.run(data, batch, channelMasks(maxGraph, config)),
        release: () => session.release(),
      };
    },
    async openStatistics(maxGraph, weights) {
      const session = await openSession(buildStatisticsModel(maxGraph, weights, true), settings);
      const { channels, height, width } = maxGraph.input;
      const zeros = { images: new Float32Array(CALIBRATION_BATCH * channels * height * width), count: CALIBRATION_BATCH };
      await recalibrateWith(session, maxGraph, weights, [zeros], maskTensors(channelMasks(maxGraph, maxGraph)));
      return {
        recalibrate: (config, batches, signal) => recalibrateWith(session, config, weights, batches, maskTensors(channelMasks(maxGraph, config)), signal),
        release: () => session.release(),
      };
    },
  };
}

function maskTensors(masks: Record<string, Float32Array>): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(masks).map(([name, m]) => [name, new ort.Tensor('float32', m, [1, m.length, 1, 1])]));
}
