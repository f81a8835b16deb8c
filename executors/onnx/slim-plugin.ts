/**
 * The SLIM job: AutoSlim's greedy walk (autoslim/greedy.ts) with every proposal scored by ONNX
 * Runtime on seeded batches of the search hold-out (config-scoring.ts), BN from each batch's own
 * statistics or recalibrated per proposal on training images. Each step is reported (and persisted
 * by the server) before the next starts, and the walk's state is saved with it, so a restarted job
 * continues at the step where it stopped.
 */
import {
  buildGraph,
  humanCount,
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
import { loaderSettings, type LoaderSettings } from '../data/loader';
import type { RegisteredDatasetSpec } from '../data/source';
import { resolveSearchSpace, type SearchSpaceSpec } from '../search-space';
import { decodeSafetensors } from '../weights';
import { latencyPredictor, parseTable } from '../latency/table';
import { ConfigScoring, type BnMode } from './config-scoring';
import { EvaluationCache } from './evaluation-cache';
import { calibrationImages, holdOutBatches, leadingImages, readScoringImages, type ScoringBatch } from './evaluation-data';
import { createEvaluator, type OnnxEvaluator } from './evaluator';
import { envelopeOf } from './shrinking-supernet';
import type { ProviderChoice } from './session';

/** What payloads queued before these settings existed are run with (the GraphQL defaults). */
export const SLIM_DEFAULTS = { calibrationImages: 1024, calibrationSeed: 0, evalBatches: 1, minWidthFraction: 0 } as const;

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
  /** Seeded hold-out batches every proposal is scored on (see holdOutBatches); payloads queued before lack it. */
  readonly evalBatches?: number;
  readonly bnMode: BnMode;
  /** RECALIBRATED: the training images BN is recalibrated on, per proposal; payloads queued before lack them. */
  readonly calibrationImages?: number;
  readonly calibrationSeed?: number;
  /** The walk's floor for every unit, a fraction of its widest (autoslim/greedy.ts); payloads queued before lack it. */
  readonly minWidthFraction?: number;
  readonly scoring: 'ACCURACY' | 'ACCURACY_DROP_PER_COST';
  /** LATENCY only: the latency table (an artifact) whose predictions are the cost. */
  readonly latencyTable?: { readonly uri: string; readonly sha256: string } | null;
  /**
   * Screening (autoslim/screening.ts): every proposal is first scored on the first `batch` images
   * of the first evaluation batch, and only the `keep` best are evaluated on all batches. Null:
   * every proposal is evaluated fully, as AutoSlim does.
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
  readonly provider: ProviderChoice;
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
    const payload = { ...SLIM_DEFAULTS, ...(job.payload as SlimPayload) };
    const space = resolveSearchSpace(payload.searchSpace);
    const recalibrated = payload.bnMode === 'RECALIBRATED';
    await ctx.progress(0, recalibrated ? 'loading the supernet, the evaluation batches and the calibration images' : 'loading the supernet and the evaluation batches');
    const weights = decodeSafetensors(await ctx.artifacts.read(payload.checkpoint)).tensors;
    const { input } = buildGraph(space.architecture, space.structure, space.options, space.structure);
    const { images: data, record: evaluationImages } = await readScoringImages(
      payload,
      input,
      { train: true, test: false },
      this.options.data ?? loaderSettings(),
      (ref) => ctx.artifacts.read(ref),
      async (dataset) => ({
        batches: await holdOutBatches(dataset.search, input, payload.evalBatchSize, payload.evalSeed, payload.evalBatches),
        calibration: recalibrated ? await calibrationImages(dataset.train, payload.calibrationImages, payload.calibrationSeed) : null,
      }),
    );
    const macsOf = profileCost(space.table, 'macs');
    const paramsOf = profileCost(space.table, 'params');
    const latencyOf = payload.constraint === 'LATENCY' ? await latencyCost(payload, ctx) : null;
    const costOf = latencyOf ?? (payload.constraint === 'MACS' ? macsOf : paramsOf);
    const resumed = job.resumeState as SlimState | null;
    const scoringRule = payload.scoring === 'ACCURACY' ? 'accuracy' : 'accuracyDropPerCost';
    let stats = resumed ?? {
      greedy: startSlimming(space.table, { targets: payload.targets, scoring: scoringRule, minWidthFraction: payload.minWidthFraction }, costOf),
      evaluations: 0,
      cacheHits: 0,
      evalSeconds: 0,
    };
    if (resumed) ctx.log.info(`resuming the trajectory at step ${resumed.greedy.step}`);
    const resumedFromStep = stats.greedy.step;
    const widestCost = costOf(space.structure);
    const smallestTarget = Math.min(...payload.targets);

    const screening = payload.screening ?? null;
    const screenData = screening ? [leadingImages(data.batches[0]!, screening.batch)] : null;
    const scoring = new ConfigScoring({
      evaluator,
      space,
      weights,
      checkpointSha256: payload.checkpoint.sha256,
      batchSizes: recalibrated ? [] : [...new Set([...data.batches, ...(screenData ?? [])].map((b) => b.images.count))],
      calibration: data.calibration,
      cache: this.cache,
      macsOf,
    });

    /** Configurations on batches, each batch from the cache when it was evaluated before. */
    const scoreOn = async (batches: readonly ScoringBatch[], configs: readonly ChannelList[]): Promise<Score[]> => {
      const scored = await scoring.scoreEach(configs, payload.bnMode, batches, ctx.signal);
      stats = {
        ...stats,
        evaluations: stats.evaluations + sumOf(scored, (s) => s.evaluations),
        cacheHits: stats.cacheHits + sumOf(scored, (s) => s.cacheHits),
        evalSeconds: stats.evalSeconds + sumOf(scored, (s) => s.seconds),
      };
      return scored.map((s) => ({ accuracy: s.top1 / s.images, loss: s.loss / s.images }));
    };
    // Screening accuracies of the step being evaluated, by unit index, for its report.
    let screened = new Map<number, number>();
    const evaluate = async (proposals: readonly Proposal[]): Promise<Score[]> => {
      screened = new Map();
      await scoring.fit(envelopeOf(space, proposals.map((p) => p.channels)));
      if (!screening || !screenData || proposals.length <= screening.keep || proposals[0]!.unit === null) {
        return scoreOn(data.batches, proposals.map((p) => p.channels));
      }
      const quick = await scoreOn(screenData, proposals.map((p) => p.channels));
      proposals.forEach((p, i) => screened.set(p.unit!.index, quick[i]!.accuracy));
      const contenders = screenContenders(quick, screening.keep).sort((a, b) => a - b);
      const full = await scoreOn(data.batches, contenders.map((i) => proposals[i]!.channels));
      const fullScores = new Map(contenders.map((i, k) => [i, full[k]!]));
      return proposals.map((_, i) => fullScores.get(i) ?? { ...quick[i]!, screenedOut: true });
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
            step: record.step,
            ...(latencyOf && { predictedLatencyMs: latencyOf(record.channels) }),
          }),
        ),
        ctx.report({ type: 'evaluationStats', trajectoryId: payload.trajectoryId, evaluations: stats.evaluations, cacheHits: stats.cacheHits, evalSeconds: stats.evalSeconds }),
        ctx.saveState(stats),
      ]);
      const done = (widestCost - record.cost) / Math.max(1, widestCost - smallestTarget);
      await ctx.progress(Math.min(1, Math.max(0, done)), `step ${record.step}: ${record.unit?.name ?? 'widest'} → ${costText(payload.constraint, record.cost)} at ${(100 * record.accuracy).toFixed(2)}%`);
    };

    let finished;
    try {
      finished = await runGreedy(stats.greedy, evaluate, costOf, onStep, ctx.signal);
    } finally {
      await scoring.release();
    }
    return {
      steps: finished.step,
      reason: finished.reason,
      results: finished.results.map((r) => ({ target: r.target, cost: r.cost, accuracy: r.accuracy, step: r.step })),
      evaluations: stats.evaluations,
      cacheHits: stats.cacheHits,
      evalSeconds: stats.evalSeconds,
      provider: evaluator.provider,
      sessionsOpened: scoring.sessionsOpened,
      resumedFromStep,
      evaluationImages,
      ...(data.calibration && { calibrationImages: data.calibration.images }),
    };
  }
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

function sumOf<T>(items: readonly T[], pick: (item: T) => number): number {
  return items.reduce((total, item) => total + pick(item), 0);
}

/** A step's cost as the progress message shows it: 7.52M MACs, 312k params, 4.10 ms. */
function costText(constraint: SlimPayload['constraint'], cost: number): string {
  return constraint === 'LATENCY' ? `${cost.toFixed(2)} ms` : `${humanCount(cost)} ${constraint === 'MACS' ? 'MACs' : 'params'}`;
}
