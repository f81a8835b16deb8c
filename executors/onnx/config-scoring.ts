/**
 * How the SLIM and EVALUATE jobs score a configuration of a supernet on batches of images, in
 * either BN mode, with every batch's result kept in the evaluation cache:
 *
 * - BATCH_STATS: each batch normalized with its own statistics, through a masked max-width session
 *   (shrinking-supernet.ts).
 * - RECALIBRATED: BN running statistics re-estimated for the configuration on the calibration
 *   images (a masked statistics session, the cumulative average recalibrate.ts computes), then the
 *   batches evaluated with them by the configuration's own graph with BN folded, as the EXPORT job
 *   exports it. A session per configuration costs its opening, but a masked graph fed the
 *   statistics as inputs cannot be laid out as ORT's fast convolutions and ran ~3× slower than
 *   folded inference (bench/results/slim-bn-modes.md).
 */
import { buildGraph, type ChannelList, type CostFn } from '../../autoslim';
import type { ResolvedSearchSpace } from '../search-space';
import type { WeightMap } from '../weights';
import type { EvaluationCache, EvaluationKey } from './evaluation-cache';
import type { CalibrationImages, ScoringBatch } from './evaluation-data';
import type { OnnxEvaluator } from './evaluator';
import type { EvaluationResult } from './session';
import { ShrinkingSupernet } from './shrinking-supernet';

export type BnMode = 'BATCH_STATS' | 'RECALIBRATED';

/** Running-statistics BN treats images independently, so any batch size gives the same scores; this one keeps activations small. */
const RUNNING_BATCH = 256;

/** Recalibrated statistics of this many recent configurations are kept, so screening and full evaluation share them. */
const RECALIBRATED_KEPT = 256;

export interface ScoringSetup {
  readonly evaluator: OnnxEvaluator;
  readonly space: ResolvedSearchSpace;
  readonly weights: WeightMap;
  readonly checkpointSha256: string;
  /** The image counts of the batches BATCH_STATS scores. */
  readonly batchSizes: readonly number[];
  /** The calibration images; null when nothing is scored RECALIBRATED. */
  readonly calibration: CalibrationImages | null;
  readonly cache: EvaluationCache;
  /** MACs, which make the masked sessions shrink. */
  readonly macsOf: CostFn;
}

/** Totals over batches, and what producing them took. */
export interface Scored {
  readonly top1: number;
  readonly loss: number;
  readonly images: number;
  /** Batches evaluated, and batches served from the cache. */
  readonly evaluations: number;
  readonly cacheHits: number;
  readonly seconds: number;
}

export class ConfigScoring {
  private readonly sessions: ShrinkingSupernet;
  private readonly calibration: CalibrationImages | null;
  private readonly recalibrated = new Map<string, Promise<WeightMap>>();

  constructor(private readonly setup: ScoringSetup) {
    this.sessions = new ShrinkingSupernet(setup.evaluator, setup.space, setup.weights, { batchSizes: setup.batchSizes, statistics: setup.calibration !== null }, setup.macsOf);
    this.calibration = setup.calibration;
  }

  /** How many times the masked sessions were opened. */
  get sessionsOpened(): number {
    return this.sessions.opened;
  }

  /** Makes the sessions able to score every configuration no wider than `envelope` (see ShrinkingSupernet). */
  fit(envelope: ChannelList): Promise<void> {
    return this.sessions.fit(envelope);
  }

  /** `channels` on every batch in `mode`: summed correct top-1 and cross-entropy, and the image count. */
  async score(channels: ChannelList, mode: BnMode, batches: readonly ScoringBatch[], signal: AbortSignal): Promise<Scored> {
    signal.throwIfAborted();
    const keys = batches.map((batch) => this.keyOf(channels, mode, batch));
    const results: (EvaluationResult | undefined)[] = keys.map((key) => this.setup.cache.get(key));
    const missing = results.flatMap((result, i) => (result ? [] : [i]));
    const started = performance.now();
    if (missing.length > 0) {
      const computed = await this.evaluate(channels, mode, missing.map((i) => batches[i]!), signal);
      missing.forEach((i, k) => {
        results[i] = computed[k]!;
        this.setup.cache.set(keys[i]!, computed[k]!);
      });
    }
    const seconds = missing.length > 0 ? (performance.now() - started) / 1000 : 0;
    const sum = (pick: (r: EvaluationResult) => number) => results.reduce((total, r) => total + pick(r!), 0);
    return {
      top1: sum((r) => r.top1),
      loss: sum((r) => r.loss),
      images: sum((r) => r.count),
      evaluations: missing.length,
      cacheHits: batches.length - missing.length,
      seconds,
    };
  }

  release(): Promise<void> {
    return this.sessions.release();
  }

  private async evaluate(channels: ChannelList, mode: BnMode, batches: readonly ScoringBatch[], signal: AbortSignal): Promise<EvaluationResult[]> {
    if (mode === 'BATCH_STATS') {
      const results: EvaluationResult[] = [];
      for (const batch of batches) {
        signal.throwIfAborted();
        results.push(await this.sessions.evaluate(channels, batch.images));
      }
      return results;
    }
    const { architecture, options, structure } = this.setup.space;
    const graph = buildGraph(architecture, channels, options, structure);
    const weights = await this.recalibratedWeights(channels, signal);
    return this.setup.evaluator.evaluateEach({ graph, weights, batchNorm: 'folded' }, batches.map((b) => b.images), RUNNING_BATCH, signal);
  }

  private recalibratedWeights(channels: ChannelList, signal: AbortSignal): Promise<WeightMap> {
    const calibration = this.calibration;
    if (!calibration) throw new Error('RECALIBRATED scoring needs calibration images');
    const id = channels.join(',');
    let weights = this.recalibrated.get(id);
    if (!weights) {
      weights = this.sessions.recalibrate(channels, calibration.batches, signal);
      // A failed recalibration (an abort) is not kept.
      weights.catch(() => this.recalibrated.delete(id));
      this.recalibrated.set(id, weights);
      if (this.recalibrated.size > RECALIBRATED_KEPT) this.recalibrated.delete(this.recalibrated.keys().next().value!);
    }
    return weights;
  }

  private keyOf(channels: ChannelList, mode: BnMode, batch: ScoringBatch): EvaluationKey {
    const common = {
      checkpointSha256: this.setup.checkpointSha256,
      channels,
      dataDigest: batch.digest,
      batch: batch.images.count,
      batchSeed: batch.seed,
    };
    if (mode === 'BATCH_STATS') return { ...common, bnMode: mode };
    if (!this.calibration) throw new Error('RECALIBRATED scoring needs calibration images');
    const { images, seed, digest } = this.calibration;
    return { ...common, bnMode: mode, calibration: { images, seed, digest } };
  }
}
