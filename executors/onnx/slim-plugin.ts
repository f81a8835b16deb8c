/**
 * The SLIM job: AutoSlim's greedy walk (autoslim/greedy.ts) with every proposal scored by ONNX
 * Runtime on one large, seeded batch of the search hold-out, BN from the batch's own statistics.
 * Each step is reported (and persisted by the server) before the next starts, and the walk's
 * state is saved with it, so a restarted job continues at the step where it stopped.
 */
import { createHash } from 'node:crypto';
import {
  buildGraph,
  profileCost,
  runGreedy,
  screenContenders,
  startSlimming,
  type ChannelList,
  type CostFn,
  type GreedyState,
  type Proposal,
  type Score,
  type StepRecord,
} from '../../autoslim';
import type { ExecutorCapabilities, ExecutorPlugin, JobContext, JobKind, JobSpec, Logger } from '../contract';
import { DEFAULT_TRANSFORMS, loaderSettings, openDataset, type Batch, type LoaderSettings, type TransformRecord } from '../data/loader';
import type { RegisteredDatasetSpec } from '../data/source';
import { resolveSearchSpace, type SearchSpaceSpec } from '../search-space';
import { Rng } from '../rng';
import { decodeSafetensors } from '../weights';
import { latencyPredictor, parseTable } from '../latency/table';
import { EvaluationCache } from './evaluation-cache';
import { createEvaluator, type OnnxEvaluator } from './evaluator';
import { ShrinkingSupernet, envelopeOf } from './shrinking-supernet';
import { labelledImages, type LabelledImages, type ProviderName } from './session';

export interface SlimPayload {
  readonly trajectoryId: string;
  readonly searchSpace: SearchSpaceSpec;
  readonly dataset: RegisteredDatasetSpec;
  /** The supernet recipe's evaluation crop (data/loader.ts); payloads queued before it lack it. */
  readonly evalCropRatio?: number;
  readonly checkpoint: { readonly uri: string; readonly sha256: string };
  readonly constraint: 'MACS' | 'PARAMS' | 'LATENCY';
  readonly targets: readonly number[];
  readonly evalBatchSize: number;
  readonly evalSeed: number;
  readonly bnMode: 'BATCH_STATS' | 'RECALIBRATED';
  readonly scoring: 'ACCURACY' | 'ACCURACY_DROP_PER_COST';
  /** LATENCY only: the latency table (an artifact) whose predictions are the cost. */
  readonly latencyTable?: { readonly uri: string; readonly sha256: string } | null;
  /**
   * Screening (autoslim/screening.ts): every proposal is first scored on the first `batch` images
   * of the evaluation batch, and only the `keep` best are evaluated on all of them. Null: every
   * proposal is evaluated fully, as AutoSlim does.
   */
  readonly screening?: { readonly batch: number; readonly keep: number } | null;
}

interface SlimState {
  readonly greedy: GreedyState;
  readonly evaluations: number;
  readonly cacheHits: number;
  readonly evalSeconds: number;
}

export interface SlimPluginOptions {
  readonly provider: ProviderName;
  readonly threads: number;
  /** JSON-lines file of the evaluation cache; null keeps it in memory only. */
  readonly cacheFile: string | null;
  /** Where a damaged cache file is reported. */
  readonly log?: Logger;
  /** The data loader's threads and cache (SLIMLAB_DATA_* by default). */
  readonly data?: LoaderSettings;
}

export class OnnxSlimmingPlugin implements ExecutorPlugin {
  readonly name = 'onnx-evaluator';
  readonly kinds: readonly JobKind[] = ['SLIM'];
  private evaluator: OnnxEvaluator | null = null;
  private readonly cache: EvaluationCache;

  constructor(private readonly options: SlimPluginOptions) {
    this.cache = new EvaluationCache(options.cacheFile, (message) => options.log?.warn(message));
  }

  async probe(): Promise<ExecutorCapabilities> {
    this.evaluator = await createEvaluator({ provider: this.options.provider, threads: this.options.threads });
    return this.evaluator.capabilities;
  }

  async run(job: JobSpec, ctx: JobContext): Promise<unknown> {
    const evaluator = this.evaluator ?? (await createEvaluator({ provider: this.options.provider, threads: this.options.threads }));
    const payload = job.payload as SlimPayload;
    if (payload.bnMode !== 'BATCH_STATS') throw new Error('this executor evaluates with batch statistics only (bnMode BATCH_STATS)');
    const space = resolveSearchSpace(payload.searchSpace);
    await ctx.progress(0, 'loading the supernet and the evaluation batch');
    const weights = decodeSafetensors(await ctx.artifacts.read(payload.checkpoint)).tensors;
    const data = await evaluationBatch(payload, this.options.data ?? loaderSettings(), ctx);
    const macsOf = profileCost(space.table, 'macs');
    const paramsOf = profileCost(space.table, 'params');
    const latencyOf = payload.constraint === 'LATENCY' ? await latencyCost(payload, ctx) : null;
    const costOf = latencyOf ?? (payload.constraint === 'MACS' ? macsOf : paramsOf);
    const resumed = job.resumeState as SlimState | null;
    let stats = resumed ?? {
      greedy: startSlimming(space.table, { targets: payload.targets, scoring: payload.scoring === 'ACCURACY' ? 'accuracy' : 'accuracyDropPerCost' }, costOf),
      evaluations: 0,
      cacheHits: 0,
      evalSeconds: 0,
    };
    if (resumed) ctx.log.info(`resuming the trajectory at step ${resumed.greedy.step}`);
    const resumedFromStep = stats.greedy.step;
    const widestCost = costOf(space.structure);
    const smallestTarget = Math.min(...payload.targets);

    // Masked sessions select each configuration through channel masks: the same results as a
    // session per configuration (tests hold them equal) without building and opening one per
    // proposal; they shrink with the walk (shrinking-supernet.ts).
    const screening = payload.screening ?? null;
    const screenData = screening ? leadingImages(data.images, screening.batch) : null;
    const batchSizes = screening ? [data.images.count, screening.batch] : [data.images.count];
    const sessions = new ShrinkingSupernet(evaluator, space, weights, batchSizes, macsOf);

    /** One configuration on one batch, from the cache when it was evaluated before. */
    const scoreOn = async (images: LabelledImages, channels: ChannelList): Promise<Score> => {
      ctx.signal.throwIfAborted();
      const key = { checkpointSha256: payload.checkpoint.sha256, channels, dataDigest: data.digest, bnMode: payload.bnMode, batch: images.count };
      let result = this.cache.get(key);
      if (result) {
        stats = { ...stats, cacheHits: stats.cacheHits + 1 };
      } else {
        const started = performance.now();
        result = await sessions.evaluate(channels, images);
        this.cache.set(key, result);
        stats = { ...stats, evaluations: stats.evaluations + 1, evalSeconds: stats.evalSeconds + (performance.now() - started) / 1000 };
      }
      return { accuracy: result.top1 / result.count, loss: result.loss / result.count };
    };
    // Screening accuracies of the step being evaluated, by unit index, for its report.
    let screened = new Map<number, number>();
    const evaluate = async (proposals: readonly Proposal[]): Promise<Score[]> => {
      screened = new Map();
      await sessions.fit(envelopeOf(space, proposals.map((p) => p.channels)));
      if (!screening || !screenData || proposals.length <= screening.keep || proposals[0]!.unit === null) {
        const scores: Score[] = [];
        for (const p of proposals) scores.push(await scoreOn(data.images, p.channels));
        return scores;
      }
      const quick: Score[] = [];
      for (const p of proposals) quick.push(await scoreOn(screenData, p.channels));
      proposals.forEach((p, i) => screened.set(p.unit!.index, quick[i]!.accuracy));
      const contenders = new Set(screenContenders(quick, screening.keep));
      const scores: Score[] = [];
      for (const [i, p] of proposals.entries()) {
        scores.push(contenders.has(i) ? await scoreOn(data.images, p.channels) : { ...quick[i]!, screenedOut: true });
      }
      return scores;
    };

    const onStep = async (record: StepRecord, greedy: GreedyState) => {
      stats = { ...stats, greedy };
      // Reported together, so they are stored together: a step is never kept without the state
      // that resumes after it.
      await Promise.all([
        ctx.report({ type: 'slimmingStep', trajectoryId: payload.trajectoryId, step: stepReport(record, macsOf, paramsOf, latencyOf, screened) }),
        ...record.targetsCrossed.map((target) =>
          ctx.report({
            type: 'candidate',
            trajectoryId: payload.trajectoryId,
            target,
            channels: record.channels,
            searchAccuracy: record.accuracy,
            ...(latencyOf && { predictedLatencyMs: latencyOf(record.channels) }),
          }),
        ),
        ctx.report({ type: 'evaluationStats', trajectoryId: payload.trajectoryId, evaluations: stats.evaluations, cacheHits: stats.cacheHits, evalSeconds: stats.evalSeconds }),
        ctx.saveState(stats),
      ]);
      const done = (widestCost - record.cost) / Math.max(1, widestCost - smallestTarget);
      await ctx.progress(Math.min(1, Math.max(0, done)), `step ${record.step}: ${record.unit?.name ?? 'widest'} → ${record.cost.toExponential(3)} at ${(100 * record.accuracy).toFixed(2)}%`);
    };

    let finished;
    try {
      finished = await runGreedy(stats.greedy, evaluate, costOf, onStep, ctx.signal);
    } finally {
      await sessions.release();
    }
    return {
      steps: finished.step,
      reason: finished.reason,
      results: finished.results.map((r) => ({ target: r.target, cost: r.cost, accuracy: r.accuracy, step: r.step })),
      evaluations: stats.evaluations,
      cacheHits: stats.cacheHits,
      evalSeconds: stats.evalSeconds,
      provider: evaluator.provider,
      sessionsOpened: sessions.opened,
      resumedFromStep,
      evaluationImages: { transform: data.transforms.eval, channels: data.transforms.channels, skippedCorrupt: data.skippedCorrupt },
    };
  }
}

/**
 * The seeded evaluation batch from the search hold-out, normalized and transformed as the trainer
 * evaluates; only those images are read and decoded.
 */
async function evaluationBatch(
  payload: SlimPayload,
  settings: LoaderSettings,
  ctx: JobContext,
): Promise<{ images: LabelledImages; digest: string; transforms: TransformRecord; skippedCorrupt: number }> {
  const space = resolveSearchSpace(payload.searchSpace);
  const { input } = buildGraph(space.architecture, space.structure, space.options, space.structure);
  const transforms = { ...DEFAULT_TRANSFORMS, evalCropRatio: payload.evalCropRatio ?? DEFAULT_TRANSFORMS.evalCropRatio };
  const data = await openDataset(payload.dataset, input, transforms, settings, (ref) => ctx.artifacts.read(ref), { train: true, test: false });
  try {
    const count = Math.min(payload.evalBatchSize, data.search.count);
    const indices = new Rng(payload.evalSeed >>> 0).permutation(data.search.count).slice(0, count);
    let batch: Batch | null = null;
    for await (const b of data.search.batches(indices, count)) batch = b;
    const digest = createHash('sha256').update(Buffer.from(batch!.images.buffer)).update(Buffer.from(batch!.labels.buffer)).digest('hex');
    const { skippedCorrupt } = await data.stats();
    return { images: labelledImages(batch!.images, batch!.labels, input), digest, transforms: data.transforms, skippedCorrupt };
  } finally {
    await data.close();
  }
}

/** The first `count` images of an evaluation batch: a seeded random sample too, since the batch is one. */
function leadingImages(data: LabelledImages, count: number): LabelledImages {
  const perImage = data.shape.channels * data.shape.height * data.shape.width;
  return { images: data.images.subarray(0, count * perImage), labels: data.labels.subarray(0, count), shape: data.shape, count };
}

/** Latency predicted by the trajectory's table (executors/latency), in milliseconds. */
async function latencyCost(payload: SlimPayload, ctx: JobContext): Promise<CostFn> {
  if (!payload.latencyTable) throw new Error('a LATENCY budget needs the latency table in the payload');
  return latencyPredictor(parseTable(await ctx.artifacts.read(payload.latencyTable)));
}

function stepReport(record: StepRecord, macsOf: CostFn, paramsOf: CostFn, latencyOf: CostFn | null, screened: ReadonlyMap<number, number>) {
  return {
    index: record.step,
    unitIndex: record.unit?.index ?? null,
    unitName: record.unit?.name ?? null,
    channels: [...record.channels],
    macs: macsOf(record.channels),
    params: paramsOf(record.channels),
    predictedLatencyMs: latencyOf?.(record.channels) ?? null,
    score: record.score ?? record.accuracy,
    accuracy: record.accuracy,
    accuracyDrop: record.accuracyDrop,
    proposals: record.proposals.map((p) => ({
      unitIndex: p.unit.index,
      score: p.score,
      accuracy: p.accuracy,
      cost: p.cost,
      screenAccuracy: screened.get(p.unit.index) ?? null,
      screenedOut: p.screenedOut === true,
    })),
  };
}
