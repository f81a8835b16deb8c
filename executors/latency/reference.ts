/**
 * The speed reference of a table build. A shared or virtual machine's speed drifts: on a 2-core
 * cloud VM, idle but for the benchmark, one MobileNetV2 configuration measured five times in a row
 * took 1.39, 1.43, 1.48, 2.40 and 2.42 ms, and others drifted by 20–40% over minutes. Timed
 * alternately with a fixed reference model, the same configuration's latency over the reference's
 * stayed within ±2% (6 measurements of 50 runs each): the drift slows both alike. So every
 * measurement of a build runs this reference alongside and keeps the ratio, and the build turns
 * ratios into milliseconds with the reference's quickest time seen: the device's latency when
 * nothing else slows it, whenever it was measured.
 *
 * The reference is the search space's narrowest configuration: it slows as the network's kernels
 * do, at their resolution and memory footprint. A fixed inverted-residual block at 28×28, tried
 * first, did not (at 224×224 the validation models then repeated within ±5% for 40% of them).
 */
import { uniformConfig, type ChannelList } from '../../autoslim';
import type { ResolvedSearchSpace } from '../search-space';
import type { MeasurePolicy } from './measure';
import type { ProbeSettings, TimedSession } from './timed-session';
import { measureConfigRelative, openConfig } from './whole-model';

export function openReference(space: ResolvedSearchSpace, batch: number, settings: ProbeSettings): Promise<TimedSession> {
  return openConfig(space, uniformConfig(space.table, 0), batch, settings);
}

/**
 * The configuration's latency as a table build measures it: timed against a fresh
 * session of the table's speed reference, in the table's milliseconds (`referenceMs`, the
 * reference's quickest time in that build).
 */
export async function measureUndisturbed(
  space: ResolvedSearchSpace,
  channels: ChannelList,
  batch: number,
  settings: ProbeSettings,
  policy: MeasurePolicy,
  referenceMs: number,
  signal?: AbortSignal,
): Promise<number> {
  const reference = await openReference(space, batch, settings);
  try {
    return (await measureConfigRelative(space, channels, batch, settings, policy, reference, signal)).ratio * referenceMs;
  } finally {
    await reference.release();
  }
}
