/**
 * Masked sessions that follow a greedy walk down. Every later proposal is at most as wide as the
 * current configuration in every unit, so once the walk has shrunk the network enough the sessions
 * are reopened with the current configuration as their widest graph: each later evaluation then
 * computes only the channels still in play. Results do not change (a masked graph computes exactly
 * its sliced configuration; tests hold them equal), only the cost.
 */
import { buildGraph, parseChannelList, type ChannelList, type CostFn } from '../../autoslim';
import type { ResolvedSearchSpace } from '../search-space';
import type { WeightMap } from '../weights';
import type { OnnxEvaluator, StatisticsEvaluator, SupernetEvaluator } from './evaluator';
import type { CalibrationBatch } from './recalibrate';
import type { EvaluationResult, LabelledImages } from './session';

/** Reopen once the widest configuration still in play costs at most this share of the open one. */
const REOPEN_BELOW = 0.75;

/** Which masked sessions a search needs. */
export interface SupernetSessions {
  /** One batch-statistics session per batch size the search evaluates at. */
  readonly batchSizes: readonly number[];
  /** A statistics session, to recalibrate BN per configuration. */
  readonly statistics: boolean;
}

export class ShrinkingSupernet {
  private sessions = new Map<number, SupernetEvaluator>();
  private statistics: StatisticsEvaluator | null = null;
  private openCost = Infinity;
  private isOpen = false;
  /** How many times the sessions were opened, the first time included. */
  opened = 0;

  constructor(
    private readonly evaluator: OnnxEvaluator,
    private readonly space: ResolvedSearchSpace,
    private readonly weights: WeightMap,
    private readonly needs: SupernetSessions,
    /** MACs: what makes an evaluation expensive, whatever the search's constraint. */
    private readonly macsOf: CostFn,
  ) {}

  /** Makes the sessions able to evaluate every configuration no wider than `envelope` in any layer. */
  async fit(envelope: ChannelList): Promise<void> {
    const cost = this.macsOf(envelope);
    if (this.isOpen && cost > REOPEN_BELOW * this.openCost) return;
    await this.release();
    const widest = this.graphOf(envelope);
    for (const batch of this.needs.batchSizes) this.sessions.set(batch, await this.evaluator.openSupernet(widest, this.weights, 'batch', batch));
    if (this.needs.statistics) this.statistics = await this.evaluator.openStatistics(widest, this.weights);
    this.isOpen = true;
    this.openCost = cost;
    this.opened++;
  }

  /** The configuration on `data` with BN from the batch's own statistics. */
  evaluate(channels: ChannelList, data: LabelledImages): Promise<EvaluationResult> {
    const session = this.sessions.get(data.count);
    if (!session) throw new Error(`no session for batches of ${data.count} images; call fit first`);
    return session.evaluate(this.graphOf(channels), data);
  }

  /** The supernet weights with the configuration's BN statistics recalibrated on `batches`. */
  recalibrate(channels: ChannelList, batches: readonly CalibrationBatch[], signal?: AbortSignal): Promise<WeightMap> {
    if (!this.statistics) throw new Error('no statistics session; call fit first');
    return this.statistics.recalibrate(this.graphOf(channels), batches, signal);
  }

  async release(): Promise<void> {
    for (const session of this.sessions.values()) await session.release();
    this.sessions.clear();
    await this.statistics?.release();
    this.statistics = null;
    this.isOpen = false;
  }

  private graphOf(channels: ChannelList) {
    const { architecture, options, structure } = this.space;
    return buildGraph(architecture, channels, options, structure);
  }
}

/** The channel-wise maximum of configurations of one search space: a configuration wide enough for all. */
export function envelopeOf(space: ResolvedSearchSpace, configs: readonly ChannelList[]): ChannelList {
  const widest = configs[0]!.map((_, i) => Math.max(...configs.map((c) => c[i]!)));
  return parseChannelList(space.architecture, widest, space.options, space.structure);
}
