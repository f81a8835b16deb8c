import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { JobContext } from '../../../executors/contract';
import { OnnxEvaluatePlugin, type EvaluatePayload, type EvaluateResult } from '../../../executors/onnx/evaluate-plugin';
import { OnnxExportPlugin } from '../../../executors/onnx/export-plugin';
import { OnnxSlimmingPlugin } from '../../../executors/onnx/slim-plugin';
import { TfjsTrainingPlugin } from '../../../executors/tfjs/plugin';
import { seedTinySearch } from '../../support/fixtures';
import { TEST_TRAINING_OPTIONS } from '../../support/plugins';
import { TestServer, eventually } from '../../support/server';

interface Step {
  index: number;
  channels: number[];
  accuracy: number;
}

/** What a worker gives a plugin, kept in memory; artifacts are read from their file URIs. */
function memoryContext(signal = new AbortController().signal) {
  const progress: { fraction: number; message?: string }[] = [];
  const ctx: JobContext = {
    signal,
    progress: async (fraction, message) => void progress.push({ fraction, message }),
    report: async () => undefined,
    saveState: async () => undefined,
    artifacts: { put: () => Promise.reject(new Error('EVALUATE stores nothing')), read: (ref) => readFile(fileURLToPath(ref.uri)) },
    log: { info: () => undefined, warn: () => undefined },
  };
  return { ctx, progress };
}

describe('the EVALUATE executor', () => {
  let server: TestServer;
  let supernetId: string;
  let widestMacs: number;

  async function succeeded(jobId: string) {
    return eventually(async () => {
      const { job } = await server.gql(`query($id: ID!) { job(id: $id) { state error result } }`, { id: jobId });
      if (job.state === 'FAILED') throw new Error(job.error);
      return job.state === 'SUCCEEDED' ? job : undefined;
    }, 240_000);
  }

  /** A trajectory with these settings: its SLIM payload and steps. */
  async function trajectory(settings: string) {
    const { startSlimming: job } = await server.gql(
      `mutation($s: ID!, $t: [Float!]!) { startSlimming(input: { supernetId: $s, targets: $t, ${settings} }) { id payload } }`,
      { s: supernetId, t: [Math.round(widestMacs * 0.5)] },
    );
    await succeeded(job.id);
    const { trajectory: t } = await server.gql(`query($t: ID!) { trajectory(id: $t) { steps { index channels accuracy } candidates { id channels } } }`, {
      t: job.payload.trajectoryId,
    });
    return { payload: job.payload, steps: t.steps as Step[], candidates: t.candidates as { id: string; channels: number[] }[] };
  }

  function evaluatePayload(slim: Record<string, unknown>, fields: Partial<EvaluatePayload>): EvaluatePayload {
    return {
      searchSpace: slim.searchSpace as EvaluatePayload['searchSpace'],
      dataset: slim.dataset as EvaluatePayload['dataset'],
      evalCropRatio: slim.evalCropRatio as number,
      checkpoint: slim.checkpoint as EvaluatePayload['checkpoint'],
      configs: [],
      split: 'SEARCH',
      bnModes: ['BATCH_STATS', 'RECALIBRATED'],
      evalBatchSize: 48,
      evalSeed: 7,
      evalBatches: 2,
      calibrationImages: 150,
      calibrationSeed: 3,
      ...fields,
    };
  }

  async function evaluate(payload: EvaluatePayload, ctx = memoryContext().ctx): Promise<EvaluateResult> {
    // A plugin of its own, with a cache of its own: every score is computed afresh.
    const plugin = new OnnxEvaluatePlugin({ provider: 'cpu', threads: 1, cacheFile: null });
    return plugin.run({ id: 'evaluate', kind: 'EVALUATE', attempt: 1, payload, resumeState: null }, ctx);
  }

  beforeAll(async () => {
    server = await TestServer.start('sqlite', [
      new TfjsTrainingPlugin(TEST_TRAINING_OPTIONS),
      new OnnxSlimmingPlugin({ provider: 'cpu', threads: 1, cacheFile: null }),
      new OnnxExportPlugin({ provider: 'cpu', threads: 1 }),
    ]);
    const { datasetId, spaceId, maxChannels } = await seedTinySearch(server, 'evaluate');
    const { profile } = await server.gql(`query($c: [Int!]!) { profile(architecture: "mbv2-fmnist", channels: $c, inputSize: 8, numClasses: 4) { macs } }`, { c: maxChannels });
    widestMacs = profile.macs;
    const { trainSupernet: job } = await server.gql(
      `mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "sn", searchSpaceId: $s, datasetId: $d, recipe: { epochs: 2, batchSize: 32, learningRate: 0.1 } }) { id payload } }`,
      { s: spaceId, d: datasetId },
    );
    await succeeded(job.id);
    supernetId = job.payload.supernetId;
  }, 240_000);

  afterAll(async () => {
    await server.stop();
  });

  it('scores every configuration of a walk on the search hold-out as SLIM did, in both BN modes, reporting progress every eight configurations', async () => {
    const common = 'evalBatchSize: 48, evalSeed: 7, evalBatches: 2, calibrationImages: 150, calibrationSeed: 3';
    const batchStats = await trajectory(`${common}, bnMode: BATCH_STATS`);
    const recalibrated = await trajectory(`${common}, bnMode: RECALIBRATED`);
    const steps = { BATCH_STATS: batchStats.steps, RECALIBRATED: recalibrated.steps };
    const configs = [...batchStats.steps, ...recalibrated.steps].map((s, i) => ({ key: `c${i}`, channels: s.channels }));
    const { ctx, progress } = memoryContext();
    const result = await evaluate(evaluatePayload(batchStats.payload, { configs }), ctx);

    expect(result.provider).toBe('cpu');
    expect(result.evalSeconds).toBeGreaterThan(0);
    expect(result.results).toHaveLength(2 * configs.length);
    for (const config of configs) {
      const own = result.results.filter((r) => r.key === config.key);
      expect(own.map((r) => r.bnMode)).toEqual(['BATCH_STATS', 'RECALIBRATED']);
      for (const r of own) {
        expect(r.images).toBe(96);
        expect(r.loss).toBeGreaterThan(0);
        // The walk in the same mode scored this configuration, whichever walk it came from.
        const walked = steps[r.bnMode].find((s) => s.channels.join() === config.channels.join());
        if (walked) expect(r.top1).toBe(walked.accuracy);
      }
    }
    const reported = Array.from({ length: Math.ceil(configs.length / 8) }, (_, k) => Math.min(8 * (k + 1), configs.length));
    expect(progress.slice(1).map((p) => p.fraction)).toEqual(reported.map((n) => n / configs.length));
    reported.forEach((n, k) => {
      expect(progress[k + 1]!.message).toMatch(new RegExp(`^${n} of ${configs.length} scored; c${n - 1}: BATCH_STATS [0-9.]+%, RECALIBRATED [0-9.]+%$`));
    });
    // Each walk's own configurations were all found.
    for (const mode of ['BATCH_STATS', 'RECALIBRATED'] as const) {
      for (const step of steps[mode]) {
        const r = result.results.find((x) => x.bnMode === mode && configs.find((c) => c.key === x.key)!.channels.join() === step.channels.join());
        expect(r?.top1).toBe(step.accuracy);
      }
    }
  });

  it("scores RECALIBRATED on the test split as the exported file's test accuracy", async () => {
    const walk = await trajectory('evalBatchSize: 64');
    const candidate = walk.candidates[0]!;
    const { exportCandidate } = await server.gql(
      `mutation($c: ID!, $s: ID!) { exportCandidate(input: { candidateId: $c, supernetId: $s, batchNorm: FOLDED, calibrationImages: 150, calibrationSeed: 3 }) { id } }`,
      { c: candidate.id, s: supernetId },
    );
    const exported = await succeeded(exportCandidate.id);
    const result = await evaluate(
      evaluatePayload(walk.payload, { split: 'TEST', evalBatchSize: 40, configs: [{ key: 'candidate', channels: candidate.channels }] }),
    );
    const [batchStats, recalibrated] = result.results;
    expect(recalibrated).toMatchObject({ key: 'candidate', bnMode: 'RECALIBRATED', images: 64 });
    expect(recalibrated!.top1).toBe(exported.result.testTop1);
    expect(batchStats).toMatchObject({ bnMode: 'BATCH_STATS', images: 64 });
  });

  it('stops when cancelled and names a configuration the search space cannot take', async () => {
    const walk = await trajectory('evalBatchSize: 64');
    const configs = walk.steps.map((s) => ({ key: `step ${s.index}`, channels: s.channels }));
    const cancel = new AbortController();
    const { ctx, progress } = memoryContext(cancel.signal);
    const originalProgress = ctx.progress;
    const cancelling: JobContext = {
      ...ctx,
      progress: async (fraction, message) => {
        await originalProgress(fraction, message);
        if (fraction > 0) cancel.abort();
      },
    };
    await expect(evaluate(evaluatePayload(walk.payload, { configs }), cancelling)).rejects.toThrow(/abort/i);
    expect(progress.filter((p) => p.fraction > 0)).toHaveLength(1);

    const tooWide = walk.steps[0]!.channels.map((c) => c + 1000);
    await expect(evaluate(evaluatePayload(walk.payload, { configs: [{ key: 'wide', channels: tooWide }] }))).rejects.toThrow(/^configs\[0\]\.channels: /);
  });
});
