import { buildGraph, type ChannelList } from '../../autoslim';
import type { LatencyStats } from '../contract';
import { exportStandalone } from '../onnx/model';
import { randomWeights } from '../onnx/random-weights';
import type { ResolvedSearchSpace } from '../search-space';
import { measureLatency, measureRelative, type MeasurePolicy, type Relative } from './measure';
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
  const session = await openConfig(space, channels, batch, settings);
  try {
    return await measureLatency(session, policy, signal);
  } finally {
    await session.release();
  }
}

/** The same model timed against the speed reference (reference.ts), as a table build times it. */
export async function measureConfigRelative(
  space: ResolvedSearchSpace,
  channels: ChannelList,
  batch: number,
  settings: ProbeSettings,
  policy: MeasurePolicy,
  reference: TimedSession,
  signal?: AbortSignal,
): Promise<Relative> {
  const session = await openConfig(space, channels, batch, settings);
  try {
    return await measureRelative(session, null, reference, policy, signal);
  } finally {
    await session.release();
  }
}

/** The configuration's deployable model in a session, for batches of `batch`. */
export function openConfig(space: ResolvedSearchSpace, channels: ChannelList, batch: number, settings: ProbeSettings): Promise<TimedSession> {
  const graph = buildGraph(space.architecture, channels, space.options, space.structure);
  const { channels: c, height, width } = graph.input;
  return TimedSession.open(exportStandalone(graph, randomWeights(graph, 0), 'folded'), [{ name: 'input', dims: [batch, c, height, width] }], settings);
}
