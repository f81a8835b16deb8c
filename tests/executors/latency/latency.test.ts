import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseChannelList } from '../../../autoslim';
import { LatencyProbePlugin } from '../../../executors/latency/plugin';
import { latencyPredictor, parseTable } from '../../../executors/latency/table';
import { OnnxSlimmingPlugin } from '../../../executors/onnx/slim-plugin';
import { TfjsTrainingPlugin } from '../../../executors/tfjs/plugin';
import { loadConfig } from '../../../server/config';
import { DATABASES } from '../../support/databases';
import { JOB_FIELDS, seedTinySearch } from '../../support/fixtures';
import { TEST_TRAINING_OPTIONS } from '../../support/plugins';
import { TestServer, eventually } from '../../support/server';

async function succeeded(server: TestServer, jobId: string) {
  return eventually(async () => {
    const { job } = await server.gql(`query($id: ID!) { job(id: $id) { ${JOB_FIELDS} result } }`, { id: jobId });
    if (job.state === 'FAILED') throw new Error(job.error);
    return job.state === 'SUCCEEDED' ? job : undefined;
  }, 240_000);
}

/** A small grid and few configs: the full table is bench/latency.ts. */
const SMALL_TABLE = 'gridPoints: 2, calibrationConfigs: 3, validationConfigs: 3, rounds: 1';

const TABLE_FIELDS = `id version batchSize threads gridPoints rounds blocks measurements emptyModelMs overheadMs scale calibrationConfigs
  buildSeconds predictedMinMs predictedMaxMs device { id } searchSpace { id } artifact { kind uri bytes }
  validation { configs mape within5 within10 kendallTau uncalibratedMape rows { channels predictedMs measuredMs error } }`;

/** Kendall's τ-a of predicted against measured, for rows without ties. */
function tauOf(rows: readonly { predictedMs: number; measuredMs: number }[]): number {
  let sum = 0;
  for (let i = 0; i < rows.length; i++) {
    for (let j = i + 1; j < rows.length; j++) sum += Math.sign(rows[i].predictedMs - rows[j].predictedMs) * Math.sign(rows[i].measuredMs - rows[j].measuredMs);
  }
  return sum / ((rows.length * (rows.length - 1)) / 2);
}

describe('latency threads', () => {
  it('default to one, as nn-Meter measures, and are checked like every variable', () => {
    expect(loadConfig({}).latencyThreads).toBe(1);
    expect(() => loadConfig({ SLIMLAB_LATENCY_THREADS: '0' })).toThrow(/SLIMLAB_LATENCY_THREADS must be an integer between 1 and 256/);
  });
});

describe.each(DATABASES)('the latency probe through GraphQL on %s', (kind) => {
  let server: TestServer;
  let deviceId: string;
  let otherDeviceId: string;
  let spaceId: string;
  let maxChannels: number[];
  let supernetId: string;

  beforeAll(async () => {
    server = await TestServer.start(kind, [
      new TfjsTrainingPlugin(TEST_TRAINING_OPTIONS),
      new OnnxSlimmingPlugin({ provider: 'cpu', threads: 1, cacheFile: null }),
      new LatencyProbePlugin({ provider: 'cpu', threads: 1 }),
      // Another thread count is another device: a second probe, as another machine would be.
      new LatencyProbePlugin({ provider: 'cpu', threads: 2, name: 'latency-probe-2t' }),
    ]);
    const seeded = await seedTinySearch(server, 'latency');
    spaceId = seeded.spaceId;
    maxChannels = seeded.maxChannels;
    const { trainSupernet: job } = await server.gql(
      `mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "sn", searchSpaceId: $s, datasetId: $d, recipe: { epochs: 1, batchSize: 32, learningRate: 0.1 } }) { id payload } }`,
      { s: spaceId, d: seeded.datasetId },
    );
    await succeeded(server, job.id);
    supernetId = job.payload.supernetId;
  }, 240_000);

  afterAll(async () => {
    await server.stop();
  });

  it('registers the device each probe measures on', async () => {
    const { devices, executors } = await server.gql(`{ devices { id fingerprint host cpuModel cores threads runtime provider os versions affinity }
      executors { name kinds backend device } }`);
    expect(devices.map((d: { threads: number }) => d.threads).sort()).toEqual([1, 2]);
    expect(new Set(devices.map((d: { fingerprint: string }) => d.fingerprint)).size).toBe(2);
    const device = devices.find((d: { threads: number }) => d.threads === 1);
    otherDeviceId = devices.find((d: { threads: number }) => d.threads === 2).id;
    expect(device).toMatchObject({ cores: cpus().length, threads: 1, runtime: 'onnxruntime-node', provider: 'cpu' });
    expect(device.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(device.versions['onnxruntime-node']).toMatch(/^\d+\.\d+/);
    expect(executors).toContainEqual(expect.objectContaining({ name: 'latency-probe', kinds: ['PROFILE_LATENCY'], backend: 'onnxruntime-cpu' }));
    deviceId = device.id;
  });

  it('rejects what it cannot measure, naming the field, before queueing anything', async () => {
    const build = (extra: string, device = deviceId) =>
      server.gqlError(`mutation($d: ID!, $s: ID!) { buildLatencyTable(input: { deviceId: $d, searchSpaceId: $s, ${extra} }) { id } }`, { d: device, s: spaceId });
    expect(await build('timedRuns: 10')).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.timedRuns' } });
    expect(await build('warmupRuns: 5')).toMatchObject({ extensions: { field: 'input.warmupRuns' } });
    expect(await build('gridPoints: 1')).toMatchObject({ extensions: { field: 'input.gridPoints' } });
    expect(await build('calibrationConfigs: 1')).toMatchObject({ extensions: { field: 'input.calibrationConfigs' } });
    expect(await build('', '00000000-0000-4000-8000-000000000000')).toMatchObject({ extensions: { code: 'NOT_FOUND', field: 'input.deviceId' } });

    const types: Record<string, string> = { c: 'ID', s: 'ID', l: '[Int!]' };
    const measure = (input: string, variables: Record<string, unknown>) => {
      const declared = Object.keys(variables).map((v) => `, $${v}: ${types[v]}`).join('');
      return server.gqlError(`mutation($d: ID!${declared}) { measureLatency(input: { deviceId: $d, ${input} }) { id } }`, { d: deviceId, ...variables });
    };
    expect(await measure('candidateId: $c, searchSpaceId: $s, channels: $l', { c: spaceId, s: spaceId, l: maxChannels })).toMatchObject({ extensions: { field: 'input.candidateId' } });
    expect(await measure('channels: $l', { l: maxChannels })).toMatchObject({ extensions: { field: 'input.candidateId' } });
    expect(await measure('searchSpaceId: $s', { s: spaceId })).toMatchObject({ extensions: { field: 'input.channels' } });
    expect((await measure('searchSpaceId: $s, channels: $l', { s: spaceId, l: [...maxChannels, 4] })).extensions?.field).toMatch(/^input\.channels/);

    const slim = (input: string) => server.gqlError(`mutation($n: ID!) { startSlimming(input: { supernetId: $n, evalBatchSize: 64, ${input} }) { id } }`, { n: supernetId });
    expect(await slim('targets: [0.1], constraint: LATENCY')).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.deviceId' } });
    expect(await slim(`targets: [1e6], deviceId: "${deviceId}"`)).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.deviceId' } });
    // The device has no table of this search space yet.
    expect(await slim(`targets: [0.1], constraint: LATENCY, deviceId: "${deviceId}"`)).toMatchObject({ extensions: { code: 'FAILED_PRECONDITION', field: 'input.deviceId' } });
    const { jobs } = await server.gql(`{ jobs(filter: { kind: PROFILE_LATENCY }) { id } }`);
    expect(jobs).toEqual([]);
  });

  it('builds a table per device and search space, versioned, validated against measured latency', async () => {
    const { buildLatencyTable: job } = await server.gql(
      `mutation($d: ID!, $s: ID!) { buildLatencyTable(input: { deviceId: $d, searchSpaceId: $s, ${SMALL_TABLE} }) { ${JOB_FIELDS} } }`,
      { d: deviceId, s: spaceId },
    );
    expect(job).toMatchObject({ kind: 'PROFILE_LATENCY', state: 'QUEUED' });
    const done = await succeeded(server, job.id);
    expect(done).toMatchObject({ executorName: 'latency-probe', backend: 'onnxruntime-cpu' });

    const { latencyTable: table } = await server.gql(`query($d: ID!, $s: ID!) { latencyTable(deviceId: $d, searchSpaceId: $s) { ${TABLE_FIELDS} } }`, { d: deviceId, s: spaceId });
    expect(table).toMatchObject({ version: 1, batchSize: 1, threads: 1, gridPoints: 2, rounds: 1, calibrationConfigs: 3, device: { id: deviceId }, searchSpace: { id: spaceId } });
    expect(table.artifact.kind).toBe('LATENCY_TABLE');
    expect(table.buildSeconds).toBeGreaterThan(0);
    expect(table.emptyModelMs).toBeGreaterThan(0);
    expect(table.predictedMaxMs).toBeGreaterThan(0);
    const { validation } = table;
    expect(validation.configs).toBe(3);
    expect(validation.rows).toHaveLength(3);
    expect(validation.mape).toBeGreaterThanOrEqual(0);
    expect(validation.within5).toBeLessThanOrEqual(validation.within10);
    expect(validation.within10).toBeLessThanOrEqual(1);
    for (const row of validation.rows) {
      expect(row.measuredMs).toBeGreaterThan(0);
      expect(row.error).toBeCloseTo(row.predictedMs / row.measuredMs - 1, 10);
    }
    const shares = validation.rows.filter((r: { error: number }) => Math.abs(r.error) <= 0.1).length / 3;
    expect(validation.within10).toBeCloseTo(shares, 10);
    expect(validation.kendallTau).toBeCloseTo(tauOf(validation.rows), 10);

    // The artifact is the whole table: every block on its grid, and it predicts what the validation recorded.
    const file = parseTable(readFileSync(fileURLToPath(table.artifact.uri)));
    expect(file.blockTable).toHaveLength(table.blocks);
    for (const entry of file.blockTable) {
      // Two widths of each kind: multiples of 16, and the others.
      for (const axis of entry.axes) {
        expect(axis.widths.filter((w) => w % 16 === 0).length).toBeLessThanOrEqual(2);
        expect(axis.widths.filter((w) => w % 16 !== 0).length).toBeLessThanOrEqual(2);
      }
      expect(entry.latencyMs).toHaveLength(entry.axes.reduce((n, a) => n * a.widths.length, 1));
    }
    const options = { inputSize: 8, numClasses: 4 };
    const structure = parseChannelList('mbv2-fmnist', maxChannels, options);
    const predict = latencyPredictor(file);
    for (const row of validation.rows) expect(predict(parseChannelList('mbv2-fmnist', row.channels, options, structure))).toBeCloseTo(row.predictedMs, 10);

    const { buildLatencyTable: again } = await server.gql(
      `mutation($d: ID!, $s: ID!) { buildLatencyTable(input: { deviceId: $d, searchSpaceId: $s, ${SMALL_TABLE}, seed: 1 }) { id } }`,
      { d: deviceId, s: spaceId },
    );
    await succeeded(server, again.id);
    const versions = await server.gql(
      `query($d: ID!, $s: ID!) { latest: latencyTable(deviceId: $d, searchSpaceId: $s) { version } first: latencyTable(deviceId: $d, searchSpaceId: $s, version: 1) { id }
        all: latencyTables(deviceId: $d, searchSpaceId: $s) { version } }`,
      { d: deviceId, s: spaceId },
    );
    expect(versions).toEqual({ latest: { version: 2 }, first: { id: table.id }, all: [{ version: 1 }, { version: 2 }] });
  });

  it('measures a channel list and a candidate: median, p10, p90, mean and std, beside the table\'s prediction', async () => {
    const { measureLatency: job } = await server.gql(
      `mutation($d: ID!, $s: ID!, $c: [Int!]) { measureLatency(input: { deviceId: $d, searchSpaceId: $s, channels: $c }) { id kind } }`,
      { d: deviceId, s: spaceId, c: maxChannels },
    );
    const { result } = await succeeded(server, job.id);
    const { stats } = result;
    expect(stats).toMatchObject({ warmupRuns: 10, timedRuns: 50 });
    expect(stats.p10Ms).toBeLessThanOrEqual(stats.medianMs);
    expect(stats.medianMs).toBeLessThanOrEqual(stats.p90Ms);
    expect(stats.stdMs).toBeGreaterThanOrEqual(0);
    expect(stats.attempts).toBeGreaterThanOrEqual(1);
    expect(stats.attempts).toBeLessThanOrEqual(3);
    expect(result.predictedMs).toBeGreaterThan(0);
    // Timed again against the table's speed reference: the same model, so the same order of time
    // as its own median whatever the machine's drift (a loose bound: the test machine is shared).
    expect(result.undisturbedMs / stats.medianMs).toBeGreaterThan(1 / 3);
    expect(result.undisturbedMs / stats.medianMs).toBeLessThan(3);

    const { importCandidate: candidate } = await server.gql(`mutation($s: ID!, $c: [Int!]!) { importCandidate(input: { searchSpaceId: $s, channels: $c }) { id } }`, {
      s: spaceId,
      c: maxChannels,
    });
    const { measureLatency: measured } = await server.gql(`mutation($d: ID!, $c: ID!) { measureLatency(input: { deviceId: $d, candidateId: $c, timedRuns: 60 }) { id subjectId } }`, {
      d: deviceId,
      c: candidate.id,
    });
    expect(measured.subjectId).toBe(candidate.id);
    await succeeded(server, measured.id);
    const { candidate: after } = await server.gql(
      `query($id: ID!) { candidate(id: $id) { measuredLatencyMs predictedLatencyMs latencyTargetMissed
        latencyMeasurements { medianMs p10Ms p90Ms meanMs stdMs timedRuns attempts noisy predictedMs undisturbedMs device { id } candidate { id } } } }`,
      { id: candidate.id },
    );
    expect(after.latencyMeasurements).toHaveLength(1);
    const [m] = after.latencyMeasurements;
    expect(m).toMatchObject({ timedRuns: 60, device: { id: deviceId }, candidate: { id: candidate.id } });
    expect(m.undisturbedMs).toBeGreaterThan(0);
    expect(after).toMatchObject({ measuredLatencyMs: m.medianMs, predictedLatencyMs: m.predictedMs, latencyTargetMissed: null });

    // A job for another device runs on that device's probe only, and without a table there, predicts nothing.
    const { measureLatency: elsewhere } = await server.gql(`mutation($d: ID!, $c: ID!) { measureLatency(input: { deviceId: $d, candidateId: $c }) { id } }`, {
      d: otherDeviceId,
      c: candidate.id,
    });
    const other = await succeeded(server, elsewhere.id);
    expect(other).toMatchObject({ executorName: 'latency-probe-2t', result: { predictedMs: null, undisturbedMs: null } });
    const { candidate: twice } = await server.gql(
      `query($id: ID!) { candidate(id: $id) { measuredLatencyMs predictedLatencyMs latencyMeasurements { device { id } }
        predictedLatencyTable { version device { id } validation { configs within5 kendallTau } } } }`,
      { id: candidate.id },
    );
    expect(twice.latencyMeasurements.map((x: { device: { id: string } }) => x.device.id)).toEqual([deviceId, otherDeviceId]);
    expect(twice.measuredLatencyMs).toBe(other.result.stats.medianMs);
    // The prediction it shows is still the first device's, by that device's latest table, and says how far to trust it.
    expect(twice.predictedLatencyMs).toBe(m.predictedMs);
    expect(twice.predictedLatencyTable).toMatchObject({ version: 2, device: { id: deviceId }, validation: { configs: 3 } });
  });

  it('slims under a latency budget: the table predicts every step, every candidate is then measured for real', async () => {
    const { latencyTable: table } = await server.gql(`query($d: ID!, $s: ID!) { latencyTable(deviceId: $d, searchSpaceId: $s) { id predictedMinMs predictedMaxMs } }`, {
      d: deviceId,
      s: spaceId,
    });
    const span = table.predictedMaxMs - table.predictedMinMs;
    const targets = [table.predictedMaxMs - 0.3 * span, table.predictedMaxMs - 0.7 * span];
    const { startSlimming: job } = await server.gql(
      `mutation($n: ID!, $d: ID!, $t: [Float!]!) { startSlimming(input: { supernetId: $n, constraint: LATENCY, deviceId: $d, targets: $t, evalBatchSize: 64 }) { id payload } }`,
      { n: supernetId, d: deviceId, t: targets },
    );
    await succeeded(server, job.id);
    const query = `query($t: ID!) { trajectory(id: $t) { constraint latencyWarning latencyTable { id validation { within5 kendallTau } } steps { index predictedLatencyMs macs params }
      candidates { id target predictedLatencyMs measuredLatencyMs latencyTargetMissed predictedLatencyTable { id } latencyMeasurements { medianMs device { id } } } } }`;
    const trajectory = await eventually(async () => {
      const { trajectory: t } = await server.gql(query, { t: job.payload.trajectoryId });
      return t.candidates.length > 0 && t.candidates.every((c: { measuredLatencyMs: number | null }) => c.measuredLatencyMs !== null) ? t : undefined;
    }, 120_000);
    expect(trajectory).toMatchObject({ constraint: 'LATENCY', latencyTable: { id: table.id } });
    // Whether three validation configurations meet the goal is up to the machine; the warning follows the table's figures.
    const { within5, kendallTau } = trajectory.latencyTable.validation;
    if (within5 < 0.95 || kendallTau === null || kendallTau < 0.95) {
      expect(trajectory.latencyWarning).toMatch(/^latency table v\d+ is weaker than the goal: .*Predicted latencies may miss their budgets/);
    } else {
      expect(trajectory.latencyWarning).toBeNull();
    }
    expect(trajectory.steps[0].predictedLatencyMs).toBeCloseTo(table.predictedMaxMs, 10);
    for (const step of trajectory.steps) {
      expect(step.predictedLatencyMs).toBeGreaterThan(0);
      expect(step.macs).toBeGreaterThan(0);
    }
    expect(trajectory.steps.at(-1).predictedLatencyMs).toBeLessThanOrEqual(targets[1]);
    for (const c of trajectory.candidates) {
      expect(c.predictedLatencyMs).toBeLessThanOrEqual(c.target);
      expect(c.latencyMeasurements).toEqual([{ medianMs: c.measuredLatencyMs, device: { id: deviceId } }]);
      expect(c.predictedLatencyTable).toEqual({ id: table.id });
      // A miss is flagged, not hidden.
      expect(c.latencyTargetMissed).toBe(c.measuredLatencyMs > c.target);
    }
  });
});
