/**
 * A latency table predicts configurations it was not calibrated on. The bound is loose on purpose:
 * the validation models are timed in the same rounds as the blocks, so a busy machine slows both
 * alike, and what this catches is a broken table (blocks missing from the sum, a wrong
 * interpolation, a fit gone astray), not the last percent. bench/latency.ts measures that.
 */
import { defaultChannels } from '../../../autoslim';
import { buildLatencyTable, type BuildState } from '../../../executors/latency/build-table';
import { describeDevice } from '../../../executors/latency/device';
import { DEFAULT_POLICY } from '../../../executors/latency/measure';
import { latencyPredictor } from '../../../executors/latency/table';
import { parseChannelList } from '../../../autoslim';
import { resolveSearchSpace } from '../../../executors/search-space';

const OPTS = { inputSize: 28, numClasses: 10 };
const SPEC = { architecture: 'mbv2-fmnist', ...OPTS, maxChannels: defaultChannels('mbv2-fmnist', 1.5, OPTS), groups: 6, divisor: 8, unitOverrides: {} };
const SETTINGS = { provider: 'cpu' as const, threads: 1 };
const OPTIONS = {
  searchSpace: SPEC,
  device: describeDevice('cpu', 1),
  settings: SETTINGS,
  batchSize: 1,
  gridPoints: 3,
  calibrationConfigs: 8,
  validationConfigs: 10,
  rounds: 2,
  seed: 3,
  policy: DEFAULT_POLICY,
};

describe('a latency table', () => {
  it('predicts held-out configurations across the cost range: MAPE below 25%, Kendall τ above 0.6', async () => {
    const table = await buildLatencyTable(OPTIONS);
    const { validation } = table;
    // Every latency is in the milliseconds of the speed reference's quickest run.
    expect(table.referenceMs).toBeGreaterThan(0);
    expect(table.emptyModelMs).toBeLessThan(table.predictedMinMs);
    expect(validation.configs).toBe(10);
    // Spread over the cost range: the widest validation model takes at least twice the narrowest.
    const measured = validation.rows.map((r) => r.measuredMs);
    expect(Math.max(...measured)).toBeGreaterThan(2 * Math.min(...measured));
    expect(validation.mape).toBeLessThan(0.25);
    expect(validation.kendallTau).toBeGreaterThan(0.6);

    // Calibration and validation never share a configuration, and the stored table predicts what was validated.
    const calibrated = new Set(table.calibrationRows!.map((r) => r.channels.join(',')));
    for (const row of validation.rows) expect(calibrated.has(row.channels.join(','))).toBe(false);
    const space = resolveSearchSpace(SPEC);
    const predict = latencyPredictor(table);
    for (const row of validation.rows) expect(predict(parseChannelList(space.architecture, row.channels, space.options, space.structure))).toBeCloseTo(row.predictedMs, 10);
  }, 300_000);

  it('starts over from a state saved before timings were relative to the speed reference', async () => {
    // Such a state holds milliseconds; taken as ratios they would be wrong by the reference's time.
    const stale = { blocks: {}, empty: [1000, 1000], models: [] };
    const abort = new AbortController();
    let first: BuildState | null = null;
    const build = buildLatencyTable(OPTIONS, {
      signal: abort.signal,
      resumed: stale as unknown as BuildState,
      onState: async (state) => {
        first ??= structuredClone(state);
        abort.abort();
      },
    });
    await expect(build).rejects.toThrow();
    expect(first!.empty).toHaveLength(0);
    expect(first!.referenceMs).toHaveLength(1);
    expect(Object.values(first!.blocks).flat()).toHaveLength(1);
  }, 120_000);
});
