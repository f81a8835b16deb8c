/**
 * The latency probe: PROFILE_LATENCY jobs, run on the device they measure. A job either builds
 * the lookup table of a search space or times one configuration (EXECUTORS.md, Latency).
 */
import { parseChannelList } from '../../autoslim';
import type { BlobRef, DeviceProfile, ExecutorCapabilities, ExecutorPlugin, JobContext, JobKind, JobSpec, LatencyTableSummary } from '../contract';
import { resolveProvider, type ProviderChoice } from '../onnx/session';
import { resolveSearchSpace, type SearchSpaceSpec } from '../search-space';
import { buildLatencyTable, type BuildState } from './build-table';
import { describeDevice } from './device';
import { DEFAULT_POLICY, type MeasurePolicy } from './measure';
import { latencyPredictor, parseTable } from './table';
import type { ProbeSettings } from './timed-session';
import { measureUndisturbed } from './reference';
import { measureConfig } from './whole-model';

interface Timing {
  readonly batchSize: number;
  readonly warmupRuns: number;
  readonly timedRuns: number;
}

export type LatencyPayload =
  | (Timing & {
      readonly task: 'table';
      readonly searchSpaceId: string;
      readonly searchSpace: SearchSpaceSpec;
      readonly gridPoints: number | null;
      readonly calibrationConfigs: number;
      readonly validationConfigs: number;
      readonly rounds: number;
      readonly seed: number;
    })
  | (Timing & {
      readonly task: 'measure';
      readonly searchSpaceId: string;
      readonly searchSpace: SearchSpaceSpec;
      readonly candidateId: string | null;
      readonly channels: readonly number[];
      /** The latest table of this device and search space, to report its prediction beside the measurement. */
      readonly table: BlobRef | null;
    });

export interface LatencyPluginOptions {
  /** Executor name; a second probe in one process (another provider or thread count) needs its own. */
  readonly name: string;
  /** Preferred provider; 'cuda' falls back to 'cpu' (and the device says so), as 'auto' does quietly. */
  readonly provider: ProviderChoice;
  /** Intra-op threads of every measurement: 1 by default, as nn-Meter measures. */
  readonly threads: number;
  /** Re-measurement: at most this many measurements while p90 / p10 exceeds spreadLimit. */
  readonly maxAttempts: number;
  readonly spreadLimit: number;
}

const DEFAULTS: LatencyPluginOptions = { name: 'latency-probe', provider: 'cpu', threads: 1, maxAttempts: DEFAULT_POLICY.maxAttempts, spreadLimit: DEFAULT_POLICY.spreadLimit };

/** Resume state of a table build is saved at most this often. */
const SAVE_EVERY_MS = 5_000;

export class LatencyProbePlugin implements ExecutorPlugin {
  readonly name: string;
  readonly kinds: readonly JobKind[] = ['PROFILE_LATENCY'];
  private readonly options: LatencyPluginOptions;
  private probed: { settings: ProbeSettings; device: DeviceProfile } | null = null;

  constructor(options: Partial<LatencyPluginOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
    this.name = this.options.name;
    if (!Number.isInteger(this.options.threads) || this.options.threads < 1) throw new Error(`threads: must be a positive integer, is ${this.options.threads}`);
  }

  async probe(): Promise<ExecutorCapabilities> {
    const { settings, device } = await this.setup();
    return {
      backend: `onnxruntime-${settings.provider}`,
      provider: settings.provider,
      device: `${device.cpuModel} (${device.cores} cores), ${settings.threads} thread${settings.threads === 1 ? '' : 's'}`,
      versions: device.versions,
      ...(device.note !== null && { note: device.note }),
      latencyDevice: device,
    };
  }

  async run(job: JobSpec, ctx: JobContext): Promise<unknown> {
    const { settings, device } = await this.setup();
    const payload = job.payload as LatencyPayload;
    const { maxAttempts, spreadLimit } = this.options;
    const policy: MeasurePolicy = { warmupRuns: payload.warmupRuns, timedRuns: payload.timedRuns, maxAttempts, spreadLimit };
    return payload.task === 'table'
      ? this.buildTable(payload, job, ctx, settings, device, policy)
      : this.measure(payload, ctx, settings, policy);
  }

  private async buildTable(
    payload: Extract<LatencyPayload, { task: 'table' }>,
    job: JobSpec,
    ctx: JobContext,
    settings: ProbeSettings,
    device: DeviceProfile,
    policy: MeasurePolicy,
  ): Promise<LatencyTableSummary> {
    const resumed = job.resumeState as BuildState | null;
    let savedAt = Date.now();
    const table = await buildLatencyTable(
      {
        searchSpace: payload.searchSpace,
        device,
        settings,
        policy,
        batchSize: payload.batchSize,
        gridPoints: payload.gridPoints,
        calibrationConfigs: payload.calibrationConfigs,
        validationConfigs: payload.validationConfigs,
        rounds: payload.rounds,
        seed: payload.seed,
      },
      {
        signal: ctx.signal,
        progress: (fraction, message) => ctx.progress(fraction, message),
        ...(resumed && { resumed }),
        onState: async (state) => {
          if (Date.now() - savedAt < SAVE_EVERY_MS) return;
          savedAt = Date.now();
          await ctx.saveState(state);
        },
      },
    );
    const artifact = await ctx.artifacts.put('LATENCY_TABLE', `latency-table-${payload.searchSpace.architecture}-${device.fingerprint.slice(0, 12)}.json`, Buffer.from(JSON.stringify(table)));
    const { blockTable: _blocks, format: _format, device: _device, searchSpace: _space, model: _model, calibrationRows: _calibration, retimedShapes: _retimed, referenceMs: _reference, ...summary } = table;
    await ctx.report({ type: 'latencyTable', searchSpaceId: payload.searchSpaceId, artifact, summary });
    return summary;
  }

  private async measure(payload: Extract<LatencyPayload, { task: 'measure' }>, ctx: JobContext, settings: ProbeSettings, policy: MeasurePolicy) {
    const space = resolveSearchSpace(payload.searchSpace);
    const channels = parseChannelList(space.architecture, payload.channels, space.options, space.structure);
    const table = payload.table ? parseTable(await ctx.artifacts.read(payload.table)) : null;
    await ctx.progress(0, `timing ${policy.warmupRuns} + ${policy.timedRuns} runs at batch ${payload.batchSize}`);
    const stats = await measureConfig(space, channels, payload.batchSize, settings, policy, ctx.signal);
    let undisturbedMs: number | null = null;
    if (table?.referenceMs) {
      await ctx.progress(0.5, 'timing it again against the table\'s speed reference');
      undisturbedMs = await measureUndisturbed(space, channels, payload.batchSize, settings, policy, table.referenceMs, ctx.signal);
    }
    const predictedMs = table ? latencyPredictor(table)(channels) : null;
    const measurement = { searchSpaceId: payload.searchSpaceId, candidateId: payload.candidateId, channels: [...channels], batchSize: payload.batchSize, stats, predictedMs, undisturbedMs };
    await ctx.report({ type: 'latencyMeasured', measurement });
    return measurement;
  }

  private async setup(): Promise<{ settings: ProbeSettings; device: DeviceProfile }> {
    if (!this.probed) {
      const { provider, note } = await resolveProvider(this.options.provider);
      const settings = { provider, threads: this.options.threads };
      this.probed = { settings, device: describeDevice(provider, settings.threads, note ?? null) };
    }
    return this.probed;
  }
}
