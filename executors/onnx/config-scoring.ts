/**
 * How the SLIM and EVALUATE jobs score a configuration of a supernet on batches of images, in
 * either BN mode, with every batch's result kept in the evaluation cache:
 *
 * - BATCH_STATS: each batch normalized with its own statistics, through a masked max-width session
 *   (shrinking-supernet.ts).
 * - RECALIBRATED: BN running statistics re-estimated for the configuration on the calibration
 *   images (a masked statistics session, the cumulative average recalibrate.ts computes), then the
 *   batches evaluated with them by the configuration's own graph with BN folded, as the EXPORT job
 *   exports it. The configurations scored in one call share a session of a joint graph, since a
 *   session's opening and first run are a large share of one evaluation; a masked graph fed the
 *   statistics as inputs instead cannot be laid out as ORT's fast convolutions and ran ~3× slower
 *   than folded inference (bench/results/slim-bn-modes.md).
 */
import { buildGraph, profileGraph, type ChannelList, type CostFn } from '../../autoslim';
import type { ResolvedSearchSpace } from '../search-space';
import type { WeightMap } from '../weights';
import type { EvaluationCache, EvaluationKey } from './evaluation-cache';
import type { CalibrationImages, ScoringBatch } from './evaluation-data';
import type { OnnxEvaluator } from './evaluator';
import type { JointMember } from './model';
import type { EvaluationResult } from './session';
import { ShrinkingSupernet } from './shrinking-supernet';

export type BnMode = 'BATCH_STATS' | 'RECALIBRATED';

/** Running-statistics BN treats images independently, so any batch size gives the same scores; at most this many per run. */
const RUNNING_BATCH = 256;

/**
 * A joint session holds configurations whose float32 weights sum to at most this, so a step of a
 * large network (ResNet-50's proposals weigh ~100 MB each) is split over several sessions.
 */
const JOINT_WEIGHT_BYTES = 256 * 2 ** 20;

/**
 * Bound on a joint run's activations, counted as every tensor of every member for every image of
 * the run (ORT reuses buffers, so the resident peak measured ~0.25–0.4 of this): it sets the
 * images per run, and members join a group only while a run can still hold MIN_JOINT_BATCH images.
 */
const JOINT_ACTIVATION_BYTES = 4 * 2 ** 30;
const MIN_JOINT_BATCH = 64;

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
    return (await this.scoreEach([channels], mode, batches, signal))[0]!;
  }

  /**
   * `score` of each configuration, in order. RECALIBRATED evaluates them together (see
   * evaluateRecalibrated), so scoring a walk's proposals in one call is cheaper than one by one;
   * `seconds` is then each configuration's share of the time.
   */
  async scoreEach(configs: readonly ChannelList[], mode: BnMode, batches: readonly ScoringBatch[], signal: AbortSignal): Promise<Scored[]> {
    signal.throwIfAborted();
    const keys = configs.map((channels) => batches.map((batch) => this.keyOf(channels, mode, batch)));
    const results = keys.map((row) => row.map((key): EvaluationResult | undefined => this.setup.cache.get(key)));
    const missing = results.map((row) => row.flatMap((result, i) => (result ? [] : [i])));
    const pending = configs.flatMap((_, c) => (missing[c]!.length > 0 ? [c] : []));
    const started = performance.now();
    if (pending.length > 0) {
      // A configuration missing some batches is evaluated on every batch any pending one misses:
      // extra results only fill the cache.
      const needed = [...new Set(pending.flatMap((c) => missing[c]!))].sort((a, b) => a - b);
      const computed = await this.evaluate(
        pending.map((c) => configs[c]!),
        mode,
        needed.map((i) => batches[i]!),
        signal,
      );
      pending.forEach((c, p) => {
        needed.forEach((i, k) => {
          if (!results[c]![i]) results[c]![i] = computed[p]![k]!;
          this.setup.cache.set(keys[c]![i]!, computed[p]![k]!);
        });
      });
    }
    const seconds = pending.length > 0 ? (performance.now() - started) / 1000 / pending.length : 0;
    return results.map((row, c) => {
      const sum = (pick: (r: EvaluationResult) => number) => row.reduce((total, r) => total + pick(r!), 0);
      const evaluations = missing[c]!.length;
      return {
        top1: sum((r) => r.top1),
        loss: sum((r) => r.loss),
        images: sum((r) => r.count),
        evaluations,
        cacheHits: batches.length - evaluations,
        seconds: evaluations > 0 ? seconds : 0,
      };
    });
  }

  release(): Promise<void> {
    return this.sessions.release();
  }

  /** Each configuration's result on each batch. */
  private async evaluate(configs: readonly ChannelList[], mode: BnMode, batches: readonly ScoringBatch[], signal: AbortSignal): Promise<EvaluationResult[][]> {
    if (mode === 'RECALIBRATED') return this.evaluateRecalibrated(configs, batches, signal);
    const results: EvaluationResult[][] = [];
    for (const channels of configs) {
      const row: EvaluationResult[] = [];
      for (const batch of batches) {
        signal.throwIfAborted();
        row.push(await this.sessions.evaluate(channels, batch.images));
      }
      results.push(row);
    }
    return results;
  }

  /**
   * Each configuration's own graph with its recalibrated statistics folded in, as EXPORT exports
   * it; configurations share joint sessions (buildJointMetricsModel) within the bounds of
   * jointGroups.
   */
  private async evaluateRecalibrated(configs: readonly ChannelList[], batches: readonly ScoringBatch[], signal: AbortSignal): Promise<EvaluationResult[][]> {
    const { architecture, options, structure } = this.setup.space;
    const members: JointMember[] = [];
    for (const channels of configs) {
      members.push({ graph: buildGraph(architecture, channels, options, structure), weights: await this.recalibratedWeights(channels, signal) });
    }
    const results: EvaluationResult[][] = [];
    for (const group of jointGroups(members)) {
      results.push(...(await this.setup.evaluator.evaluateTogether(group.members, 'folded', batches.map((b) => b.images), group.batch, signal)));
    }
    return results;
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

interface JointGroup {
  readonly members: JointMember[];
  /** Images per run. */
  readonly batch: number;
}

/**
 * `members` in order, cut into consecutive groups within JOINT_WEIGHT_BYTES and
 * JOINT_ACTIVATION_BYTES; a member too large for either still gets a group of its own.
 */
function jointGroups(members: readonly JointMember[]): JointGroup[] {
  const groups: { members: JointMember[]; weightBytes: number; activationBytes: number }[] = [];
  for (const member of members) {
    const weightBytes = 4 * profileGraph(member.graph).params;
    const activationBytes = 4 * member.graph.nodes.reduce((total, n) => total + n.outShape.channels * n.outShape.height * n.outShape.width, 0);
    const last = groups.at(-1);
    if (
      last &&
      last.weightBytes + weightBytes <= JOINT_WEIGHT_BYTES &&
      (last.activationBytes + activationBytes) * MIN_JOINT_BATCH <= JOINT_ACTIVATION_BYTES
    ) {
      last.members.push(member);
      last.weightBytes += weightBytes;
      last.activationBytes += activationBytes;
    } else {
      groups.push({ members: [member], weightBytes, activationBytes });
    }
  }
  return groups.map((g) => ({ members: g.members, batch: Math.max(1, Math.min(RUNNING_BATCH, Math.floor(JOINT_ACTIVATION_BYTES / g.activationBytes))) }));
}
