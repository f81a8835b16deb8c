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
 * width. So a search uses openSupernet; `evaluate` is for one-off evaluations.
 */
import { cpus } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { NetworkGraph } from '../../autoslim/graph';
import type { ExecutorCapabilities } from '../contract';
import type { WeightMap } from '../weights';
import type { BatchNormMode } from './batch-norm';
import { buildModel, channelMasks } from './model';
import { MetricsSession, resolveProvider, type EvaluationResult, type LabelledImages, type ProviderName } from './session';

export interface EvaluatorOptions {
  /** Preferred provider; 'cuda' falls back to 'cpu' when the CUDA provider cannot load. */
  readonly provider: ProviderName;
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
  /** Opens one session of the widest graph that evaluates every configuration through channel masks. */
  openSupernet(maxGraph: NetworkGraph, weights: WeightMap, batchNorm: BatchNormMode, batch: number): Promise<SupernetEvaluator>;
}

export interface SupernetEvaluator {
  /** `config` must come from the same search space as the supernet's graph. */
  evaluate(config: NetworkGraph, data: LabelledImages): Promise<EvaluationResult>;
  release(): Promise<void>;
}

export async function createEvaluator(options: EvaluatorOptions): Promise<OnnxEvaluator> {
  if (!Number.isInteger(options.threads) || options.threads < 1) {
    throw new Error(`threads: must be a positive integer, is ${options.threads}`);
  }
  const { provider, note } = await resolveProvider(options.provider);
  const settings = { provider, threads: options.threads };
  const noted = note === undefined ? {} : { note };
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
    async evaluate(model, data, batch) {
      const bytes = model instanceof Uint8Array ? model : buildModel(model.graph, model.weights, { batchNorm: model.batchNorm, head: 'metrics', masked: false });
      const session = await MetricsSession.open(bytes, settings);
      try {
        return await session.run(data, batch);
      } finally {
        await session.release();
      }
    },
    async openSupernet(maxGraph, weights, batchNorm, batch) {
      const session = await MetricsSession.open(buildModel(maxGraph, weights, { batchNorm, head: 'metrics', masked: true }), settings);
      await session.warmUp(maxGraph.input, batch, channelMasks(maxGraph, maxGraph));
      return {
        evaluate: (config, data) => session.run(data, batch, channelMasks(maxGraph, config)),
        release: () => session.release(),
      };
    },
  };
}
