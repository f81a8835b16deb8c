/**
 * Builds the latency lookup table of the mbv2-fmnist search space (1.5x, 12 groups per unit, every
 * width measured) on this machine and validates it on random configurations: predicted against
 * measured latency, MAPE and the shares within ±5% and ±10%.
 *
 *   npm run bench:latency -- [--configs 30] [--calibration 8] [--grid N] [--threads 1] [--batch 1] [--seed 0]
 *
 * Measurements are only as quiet as the machine: run it idle. The last line printed is one JSON
 * object with every number.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { defaultChannels } from '../autoslim';
import { buildLatencyTable } from '../executors/latency/build-table';
import { describeDevice } from '../executors/latency/device';
import { DEFAULT_POLICY, MIN_TIMED_RUNS } from '../executors/latency/measure';

const { values } = parseArgs({
  options: {
    configs: { type: 'string', default: '30' },
    calibration: { type: 'string', default: '12' },
    grid: { type: 'string' },
    threads: { type: 'string', default: '1' },
    batch: { type: 'string', default: '1' },
    seed: { type: 'string', default: '0' },
    rounds: { type: 'string', default: '3' },
  },
});
const OPTS = { inputSize: 28, numClasses: 10 };
const threads = Number(values.threads);
const settings = { provider: 'cpu' as const, threads };
const device = describeDevice(settings.provider, threads);

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const table = await buildLatencyTable(
    {
      searchSpace: { architecture: 'mbv2-fmnist', ...OPTS, maxChannels: defaultChannels('mbv2-fmnist', 1.5, OPTS), groups: 12, divisor: 8, unitOverrides: {} },
      device,
      settings,
      batchSize: Number(values.batch),
      gridPoints: values.grid === undefined ? null : Number(values.grid),
      calibrationConfigs: Number(values.calibration),
      validationConfigs: Number(values.configs),
      rounds: Number(values.rounds),
      seed: Number(values.seed),
      policy: { ...DEFAULT_POLICY, timedRuns: MIN_TIMED_RUNS },
    },
    { progress: async (fraction, message) => void process.stderr.write(`\r${(100 * fraction).toFixed(0).padStart(3)}% ${message}      `) },
  );
  process.stderr.write('\n');
  const v = table.validation;
  console.log(`device: ${device.cpuModel} ×${device.cores}, ${threads} thread(s), ${device.os}, affinity ${device.affinity}`);
  console.log(`blocks ${table.blocks}, block shapes timed ${table.measurements}, built in ${table.buildSeconds.toFixed(1)} s`);
  console.log(`empty model ${table.emptyModelMs.toFixed(4)} ms; calibration on ${table.calibrationConfigs} configs: ${table.overheadMs.toFixed(4)} ms + ${table.scale.toFixed(4)} × sum of blocks`);
  console.log('  predicted ms   measured ms    error');
  for (const row of v.rows) {
    console.log(`${row.predictedMs.toFixed(4).padStart(12)} ${row.measuredMs.toFixed(4).padStart(13)} ${(100 * (row.predictedMs / row.measuredMs - 1)).toFixed(2).padStart(7)}%`);
  }
  console.log(`MAPE ${(100 * v.mape).toFixed(2)}% (uncalibrated ${(100 * v.uncalibratedMape).toFixed(2)}%), within ±5%: ${(100 * v.within5).toFixed(1)}%, within ±10%: ${(100 * v.within10).toFixed(1)}%`);
  console.log(
    JSON.stringify({
      bench: 'latency.table',
      architecture: 'mbv2-fmnist',
      device: { cpuModel: device.cpuModel, cores: device.cores, threads, affinity: device.affinity, versions: device.versions },
      batchSize: table.batchSize,
      gridPoints: table.gridPoints,
      rounds: table.rounds,
      blocks: table.blocks,
      measurements: table.measurements,
      buildSeconds: table.buildSeconds,
      emptyModelMs: table.emptyModelMs,
      overheadMs: table.overheadMs,
      scale: table.scale,
      calibrationConfigs: table.calibrationConfigs,
      configs: v.configs,
      mape: v.mape,
      uncalibratedMape: v.uncalibratedMape,
      within5: v.within5,
      within10: v.within10,
      predictedMinMs: table.predictedMinMs,
      predictedMaxMs: table.predictedMaxMs,
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadavg(),
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
