/**
 * The EVALUATE job: given configurations of a supernet (or of retrained weights, first-k sliced),
 * each scored in each requested BN mode on the search hold-out (the same seeded batches, scoring
 * code and cache as SLIM, so the scores are the ones a walk with those settings records) or on the
 * whole test split.
 */
import { buildGraph, parseChannelList, profileCost, type ChannelList } from '../../autoslim';
import type { ExecutorCapabilities, ExecutorPlugin, JobContext, JobKind, JobSpec } from '../contract';
import { loaderSettings } from '../data/loader';
import type { RegisteredDatasetSpec } from '../data/source';
import { resolveSearchSpace, type ResolvedSearchSpace, type SearchSpaceSpec } from '../search-space';
import { decodeSafetensors } from '../weights';
import { ConfigScoring, type BnMode, type Scored } from './config-scoring';
import { EvaluationCache } from './evaluation-cache';
import { calibrationImages, holdOutBatches, readScoringImages, splitBatches } from './evaluation-data';
import { createEvaluator, type OnnxEvaluator } from './evaluator';
import { envelopeOf } from './shrinking-supernet';
import type { SlimPluginOptions } from './slim-plugin';

/** Configurations scored together between progress reports: RECALIBRATED shares a session among them (config-scoring.ts). */
const CONFIGS_PER_PROGRESS = 8;

export interface EvaluatePayload {
  readonly searchSpace: SearchSpaceSpec;
  readonly dataset: RegisteredDatasetSpec;
  readonly evalCropRatio?: number;
  /** Supernet or retrained weights; every config is a first-k slice. */
  readonly checkpoint: { readonly uri: string; readonly sha256: string };
  readonly configs: readonly { readonly key: string; readonly channels: readonly number[] }[];
  readonly split: 'SEARCH' | 'TEST';
  readonly bnModes: readonly ('BATCH_STATS' | 'RECALIBRATED')[];
  /** SEARCH: the same seeded batches as SLIM (evalBatchSize, evalSeed, evalBatches). TEST: the whole test split in batches of evalBatchSize; evalSeed and evalBatches are ignored. */
  readonly evalBatchSize: number;
  readonly evalSeed: number;
  readonly evalBatches: number;
  readonly calibrationImages: number;
  readonly calibrationSeed: number;
}

export interface EvaluateResult {
  /** Per config and mode, in payload order: top-1 accuracy and mean cross-entropy over `images` images. */
  readonly results: readonly { readonly key: string; readonly bnMode: 'BATCH_STATS' | 'RECALIBRATED'; readonly top1: number; readonly loss: number; readonly images: number }[];
  readonly provider: string;
  /** Seconds spent evaluating, cache hits excluded. */
  readonly evalSeconds: number;
}

export class OnnxEvaluatePlugin implements ExecutorPlugin {
  readonly name = 'onnx-scorer';
  readonly kinds: readonly JobKind[] = ['EVALUATE'];
  private evaluator: OnnxEvaluator | null = null;
  private readonly cache: EvaluationCache;

  /** Given SLIM's cache file, both read what the other stored before they started, and both append to it. */
  constructor(private readonly options: SlimPluginOptions) {
    this.cache = new EvaluationCache(options.cacheFile, (message) => options.log?.warn(message));
  }

  async probe(): Promise<ExecutorCapabilities> {
    this.evaluator = await createEvaluator({ provider: this.options.provider, threads: this.options.threads });
    return this.evaluator.capabilities;
  }

  async run(job: JobSpec, ctx: JobContext): Promise<EvaluateResult> {
    const evaluator = this.evaluator ?? (await createEvaluator({ provider: this.options.provider, threads: this.options.threads }));
    const payload = job.payload as EvaluatePayload;
    const space = resolveSearchSpace(payload.searchSpace);
    if (payload.configs.length === 0) throw new Error('configs: must name at least one configuration');
    if (payload.bnModes.length === 0) throw new Error('bnModes: must name at least one BN mode');
    const configs = payload.configs.map((c, i) => ({ key: c.key, channels: configChannels(space, c.channels, i) }));
    const modes: readonly BnMode[] = [...new Set(payload.bnModes)];
    const recalibrated = modes.includes('RECALIBRATED');
    const test = payload.split === 'TEST';

    await ctx.progress(0, `loading the weights and the ${test ? 'test split' : 'evaluation batches'}`);
    const weights = decodeSafetensors(await ctx.artifacts.read(payload.checkpoint)).tensors;
    const { input } = buildGraph(space.architecture, space.structure, space.options, space.structure);
    const { images: data } = await readScoringImages(
      payload,
      input,
      { train: recalibrated || !test, test },
      this.options.data ?? loaderSettings(),
      (ref) => ctx.artifacts.read(ref),
      async (dataset) => ({
        batches: test
          ? await splitBatches(dataset.test, input, payload.evalBatchSize)
          : await holdOutBatches(dataset.search, input, payload.evalBatchSize, payload.evalSeed, payload.evalBatches),
        calibration: recalibrated ? await calibrationImages(dataset.train, payload.calibrationImages, payload.calibrationSeed) : null,
      }),
    );
    const scoring = new ConfigScoring({
      evaluator,
      space,
      weights,
      checkpointSha256: payload.checkpoint.sha256,
      batchSizes: modes.includes('BATCH_STATS') ? [...new Set(data.batches.map((b) => b.images.count))] : [],
      calibration: data.calibration,
      cache: this.cache,
      macsOf: profileCost(space.table, 'macs'),
    });
    const results: EvaluateResult['results'][number][] = [];
    let evalSeconds = 0;
    try {
      await scoring.fit(envelopeOf(space, configs.map((c) => c.channels)));
      for (let start = 0; start < configs.length; start += CONFIGS_PER_PROGRESS) {
        const chunk = configs.slice(start, start + CONFIGS_PER_PROGRESS);
        const byMode = new Map<BnMode, Scored[]>();
        for (const bnMode of modes) {
          const scored = await scoring.scoreEach(chunk.map((c) => c.channels), bnMode, data.batches, ctx.signal);
          evalSeconds += scored.reduce((total, s) => total + s.seconds, 0);
          byMode.set(bnMode, scored);
        }
        chunk.forEach((config, k) => {
          for (const bnMode of modes) {
            const s = byMode.get(bnMode)![k]!;
            results.push({ key: config.key, bnMode, top1: s.top1 / s.images, loss: s.loss / s.images, images: s.images });
          }
        });
        const last = chunk.at(-1)!;
        const lastScores = modes.map((bnMode) => {
          const s = byMode.get(bnMode)!.at(-1)!;
          return `${bnMode} ${((100 * s.top1) / s.images).toFixed(2)}%`;
        });
        await ctx.progress((start + chunk.length) / configs.length, `${start + chunk.length} of ${configs.length} scored; ${last.key}: ${lastScores.join(', ')}`);
      }
    } finally {
      await scoring.release();
    }
    return { results, provider: evaluator.provider, evalSeconds };
  }
}

function configChannels(space: ResolvedSearchSpace, channels: readonly number[], index: number): ChannelList {
  try {
    return parseChannelList(space.architecture, channels, space.options, space.structure);
  } catch (error) {
    throw new Error(`configs[${index}].channels: ${error instanceof Error ? error.message : String(error)}`);
  }
}
