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
  startSlimming,
  type CostFn,
  type GreedyState,
  type Proposal,
  type Score,
  type StepRecord,
} from '../../autoslim';
import type { ExecutorCapabilities, ExecutorPlugin, JobContext, JobKind, JobSpec } from '../contract';
import { batches, channelStatistics } from '../data/batches';
import { loadDataset, type DatasetSpec } from '../data/source';
import { resolveSearchSpace, type SearchSpaceSpec } from '../search-space';
import { Rng } from '../rng';
import { decodeSafetensors } from '../weights';
import { EvaluationCache } from './evaluation-cache';
import { createEvaluator, type OnnxEvaluator } from './evaluator';
import { labelledImages, type LabelledImages, type ProviderName } from './session';

export interface SlimPayload {
  readonly trajectoryId: string;
  readonly searchSpace: SearchSpaceSpec;
  readonly dataset: DatasetSpec;
  readonly checkpoint: { readonly uri: string; readonly sha256: string };
  readonly constraint: 'MACS' | 'PARAMS' | 'LATENCY';
  readonly targets: readonly number[];
  readonly evalBatchSize: number;
  readonly evalSeed: number;
  readonly bnMode: 'BATCH_STATS' | 'RECALIBRATED';
  readonly scoring: 'ACCURACY' | 'ACCURACY_DROP_PER_COST';
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
}

export class OnnxSlimmingPlugin implements ExecutorPlugin {
  readonly name = 'onnx-evaluator';
  readonly kinds: readonly JobKind[] = ['SLIM'];
  private evaluator: OnnxEvaluator | null = null;
  private readonly cache: EvaluationCache;

  constructor(private readonly options: SlimPluginOptions) {
    this.cache = new EvaluationCache(options.cacheFile);
  }

  async probe(): Promise<ExecutorCapabilities> {
    this.evaluator = await createEvaluator({ provider: this.options.provider, threads: this.options.threads });
    return this.evaluator.capabilities;
  }

  async run(job: JobSpec, ctx: JobContext): Promise<unknown> {
    const evaluator = this.evaluator ?? (await createEvaluator({ provider: this.options.provider, threads: this.options.threads }));
    const payload = job.payload as SlimPayload;
    if (payload.constraint === 'LATENCY') throw new Error('latency budgets need a latency lookup table, which this executor does not have');
    if (payload.bnMode !== 'BATCH_STATS') throw new Error('this executor evaluates with batch statistics only (bnMode BATCH_STATS)');
    const space = resolveSearchSpace(payload.searchSpace);
    await ctx.progress(0, 'loading the supernet and the evaluation batch');
    const weights = decodeSafetensors(await ctx.artifacts.read(payload.checkpoint.uri)).tensors;
    const data = evaluationBatch(payload);
    const costOf = profileCost(space.table, payload.constraint === 'MACS' ? 'macs' : 'params');
    const other = profileCost(space.table, payload.constraint === 'MACS' ? 'params' : 'macs');
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

    // One max-width session selects each configuration through channel masks: the same results
    // as a session per configuration (tests hold them equal), about 3× faster per proposal.
    const supernet = await evaluator.openSupernet(
      buildGraph(space.architecture, space.structure, space.options, space.structure),
      weights,
      'batch',
      data.images.count,
    );
    const evaluate = async (proposals: readonly Proposal[]): Promise<Score[]> => {
      const scores: Score[] = [];
      for (const proposal of proposals) {
        ctx.signal.throwIfAborted();
        const key = { checkpointSha256: payload.checkpoint.sha256, channels: proposal.channels, dataDigest: data.digest, bnMode: payload.bnMode, batch: data.images.count };
        let result = this.cache.get(key);
        if (result) {
          stats = { ...stats, cacheHits: stats.cacheHits + 1 };
        } else {
          const started = performance.now();
          result = await supernet.evaluate(buildGraph(space.architecture, proposal.channels, space.options, space.structure), data.images);
          this.cache.set(key, result);
          stats = { ...stats, evaluations: stats.evaluations + 1, evalSeconds: stats.evalSeconds + (performance.now() - started) / 1000 };
        }
        scores.push({ accuracy: result.top1 / result.count, loss: result.loss / result.count });
      }
      return scores;
    };

    const onStep = async (record: StepRecord, greedy: GreedyState) => {
      await ctx.report({ type: 'slimmingStep', trajectoryId: payload.trajectoryId, step: stepReport(record, payload.constraint, other) });
      for (const target of record.targetsCrossed) {
        await ctx.report({ type: 'candidate', trajectoryId: payload.trajectoryId, target, channels: record.channels, searchAccuracy: record.accuracy });
      }
      stats = { ...stats, greedy };
      await ctx.report({ type: 'evaluationStats', trajectoryId: payload.trajectoryId, evaluations: stats.evaluations, cacheHits: stats.cacheHits, evalSeconds: stats.evalSeconds });
      await ctx.saveState(stats);
      const done = (widestCost - record.cost) / Math.max(1, widestCost - smallestTarget);
      await ctx.progress(Math.min(1, Math.max(0, done)), `step ${record.step}: ${record.unit?.name ?? 'widest'} → ${record.cost.toExponential(3)} at ${(100 * record.accuracy).toFixed(2)}%`);
    };

    let finished;
    try {
      finished = await runGreedy(stats.greedy, evaluate, costOf, onStep, ctx.signal);
    } finally {
      await supernet.release();
    }
    return {
      steps: finished.step,
      reason: finished.reason,
      results: finished.results.map((r) => ({ target: r.target, cost: r.cost, accuracy: r.accuracy, step: r.step })),
      evaluations: stats.evaluations,
      cacheHits: stats.cacheHits,
      evalSeconds: stats.evalSeconds,
      provider: evaluator.provider,
      resumedFromStep,
    };
  }
}

/** The seeded evaluation batch from the search hold-out, normalized as the trainer normalized. */
function evaluationBatch(payload: SlimPayload): { images: LabelledImages; digest: string } {
  const data = loadDataset(payload.dataset);
  const norm = channelStatistics(data.train);
  const count = Math.min(payload.evalBatchSize, data.search.count);
  const indices = new Rng(payload.evalSeed >>> 0).permutation(data.search.count).slice(0, count);
  const [batch] = [...batches(data.search, indices, count, norm)];
  const digest = createHash('sha256').update(Buffer.from(batch!.images.buffer)).update(Buffer.from(batch!.labels.buffer)).digest('hex');
  return {
    images: labelledImages(batch!.images, batch!.labels, { channels: data.search.channels, height: data.search.height, width: data.search.width }),
    digest,
  };
}

function stepReport(record: StepRecord, constraint: SlimPayload['constraint'], otherCost: CostFn) {
  const other = otherCost(record.channels);
  return {
    index: record.step,
    unitIndex: record.unit?.index ?? null,
    unitName: record.unit?.name ?? null,
    channels: [...record.channels],
    macs: constraint === 'MACS' ? record.cost : other,
    params: constraint === 'MACS' ? other : record.cost,
    predictedLatencyMs: null,
    score: record.score ?? record.accuracy,
    accuracy: record.accuracy,
    accuracyDrop: record.accuracyDrop,
    proposals: record.proposals.map((p) => ({ unitIndex: p.unit.index, score: p.score, accuracy: p.accuracy, cost: p.cost })),
  };
}
