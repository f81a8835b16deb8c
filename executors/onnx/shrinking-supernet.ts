/**
 * Masked evaluation sessions that follow a greedy walk down. Every later proposal is at most as
 * wide as the current configuration in every unit, so once the walk has shrunk the network enough
 * the sessions are reopened with the current configuration as their widest graph: each later
 * evaluation then computes only the channels still in play. Results do not change (a masked graph
 * computes exactly its sliced configuration; tests hold them equal), only the cost.
 */
import { buildGraph, parseChannelList, type ChannelList, type CostFn } from '../../autoslim';
import type { ResolvedSearchSpace } from '../search-space';
import type { WeightMap } from '../weights';
import type { OnnxEvaluator, SupernetEvaluator } from './evaluator';
import type { EvaluationResult, LabelledImages } from './session';

/** Reopen once the widest configuration still in play costs at most this share of the open one. */
const REOPEN_BELOW = 0.75;

export class ShrinkingSupernet {
  private sessions = new Map<number, SupernetEvaluator>();
  private openCost = Infinity;
  /** How many times the sessions were opened, the first time included. */
  opened = 0;

  constructor(
    private readonly evaluator: OnnxEvaluator,
    private readonly space: ResolvedSearchSpace,
    private readonly weights: WeightMap,
    /** One session per batch size the search evaluates at. */
    private readonly batchSizes: readonly number[],
    /** MACs: what makes an evaluation expensive, whatever the search's constraint. */
    private readonly macsOf: CostFn,
  ) {}

  /** Makes the sessions able to evaluate every configuration no wider than `envelope` in any layer. */
  async fit(envelope: ChannelList): Promise<void> {
    const cost = this.macsOf(envelope);
    if (this.sessions.size > 0 && cost > REOPEN_BELOW * this.openCost) return;
    await this.release();
    const { architecture, options, structure } = this.space;
    const widest = buildGraph(architecture, envelope, options, structure);
    for (const batch of this.batchSizes) this.sessions.set(batch, await this.evaluator.openSupernet(widest, this.weights, 'batch', batch));
    this.openCost = cost;
    this.opened++;
  }

  evaluate(channels: ChannelList, data: LabelledImages): Promise<EvaluationResult> {
    const session = this.sessions.get(data.count);
    if (!session) throw new Error(`no session for batches of ${data.count} images; call fit first`);
    const { architecture, options, structure } = this.space;
    return session.evaluate(buildGraph(architecture, channels, options, structure), data);
  }

  async release(): Promise<void> {
    for (const session of this.sessions.values()) await session.release();
    this.sessions.clear();
  }
}

/** The channel-wise maximum of configurations of one search space: a configuration wide enough for all. */
export function envelopeOf(space: ResolvedSearchSpace, configs: readonly ChannelList[]): ChannelList {
  const widest = configs[0]!.map((_, i) => Math.max(...configs.map((c) => c[i]!)));
  return parseChannelList(space.architecture, widest, space.options, space.structure);
}
