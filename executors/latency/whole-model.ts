import { buildGraph, type ChannelList } from '../../autoslim';
import type { LatencyStats } from '../contract';
import { exportStandalone } from '../onnx/model';
import { randomWeights } from '../onnx/random-weights';
import type { ResolvedSearchSpace } from '../search-space';
import { measureLatency, type MeasurePolicy } from './measure';
import { TimedSession, type ProbeSettings } from './timed-session';

/**
 * Times the deployable model of a configuration (standalone export, BN folded) at a batch size.
 * Weights are seeded random: latency does not depend on their values.
 */
export async function measureConfig(
  space: ResolvedSearchSpace,
  channels: ChannelList,
  batch: number,
  settings: ProbeSettings,
  policy: MeasurePolicy,
  signal?: AbortSignal,
): Promise<LatencyStats> {
  const graph = buildGraph(space.architecture, channels, space.options, space.structure);
  const { channels: c, height, width } = graph.input;
  const session = await TimedSession.open(exportStandalone(graph, randomWeights(graph, 0), 'folded'), [{ name: 'input', dims: [batch, c, height, width] }], settings);
  try {
    return await measureLatency(session, policy, signal);
  } finally {
    await session.release();
  }
}
