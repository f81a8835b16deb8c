import { defaultChannels, parseChannelList, profile } from '../../autoslim';
import type { JobContext, JobSpec } from '../../executors/contract';
import { SlimmingTrajectory } from '../../server/entities';
import { DATABASES } from '../support/databases';
import { seedProject, trainSupernet } from '../support/fixtures';
import { ScriptedPlugin } from '../support/plugins';
import { TestServer, eventually } from '../support/server';

const FMNIST = { inputSize: 28, numClasses: 10 };
const STRUCTURE = parseChannelList('mbv2-fmnist', defaultChannels('mbv2-fmnist', 1, FMNIST), FMNIST);
const costAt = (width: number) => profile('mbv2-fmnist', defaultChannels('mbv2-fmnist', width, FMNIST), FMNIST, 'reference', STRUCTURE);

/** What the scripted SLIM job reports for a MACS trajectory with these targets: the 0.75x and 0.5x lists. */
const AUTOSLIM_TARGETS = [8e6, 4e6];
const AUTOSLIM_WIDTHS = [0.75, 0.5];
/** And for a PARAMS trajectory with the params of 0.6x as its one target: the 0.55x list. */
const PARAMS_TARGET = costAt(0.6).params;
const PARAMS_WIDTH = 0.55;

/** t(0.975, 2): every interval below rests on three seeds. */
const T_975_2 = 4.302652729749464;

const INTERVAL = 'estimate low high n confidence';

describe.each(DATABASES)('leaderboard figures with uncertainty, matched baselines and fine-tuning on %s', (kind) => {
  let server: TestServer;
  /** Test top-1 each retraining reports, by candidate, seed and init; a rerun takes the next value. */
  const scores = new Map<string, number[]>();
  const score = (candidateId: string, seed: number, init: string, ...top1: number[]) => scores.set(`${candidateId}/${seed}/${init}`, top1);

  const trainer = new ScriptedPlugin(['TRAIN_SUPERNET', 'RETRAIN'], async (job, ctx, test) => {
    if (job.kind === 'TRAIN_SUPERNET') return test.awaitOutcome(job, ctx);
    const payload = job.payload as { candidateId: string; runId: string; recipe: { seed: number }; init: string };
    const top1 = scores.get(`${payload.candidateId}/${payload.recipe.seed}/${payload.init}`)?.shift();
    if (top1 === undefined) throw new Error(`no score for ${payload.candidateId} seed ${payload.recipe.seed} ${payload.init}`);
    await ctx.report({ type: 'runSummary', runId: payload.runId, summary: { top1, top5: 1 } });
    return { top1 };
  });
  const slimmer = new ScriptedPlugin(['SLIM'], reportCandidates, 'scripted-slim');

  beforeAll(async () => {
    server = await TestServer.start(kind, [trainer, slimmer]);
  });

  afterAll(async () => {
    await server.stop();
  });

  /** A supernet with a checkpoint, and a MACS trajectory whose AutoSlim candidates are in. */
  async function searched(name: string) {
    const seeded = await seedProject(server, name);
    const job = await trainSupernet(server, seeded.space.id, seeded.datasetId);
    const ctx = await trainer.whenStarted(job.id);
    const artifact = await ctx.artifacts.put('CHECKPOINT', 'supernet.safetensors', Buffer.from('weights'));
    await ctx.report({ type: 'checkpoint', runId: job.payload.runId, artifact, step: 10 });
    trainer.finish(job.id);
    const trajectoryId = await slim(job.payload.supernetId, 'MACS', AUTOSLIM_TARGETS);
    const { trajectory } = await server.gql(`query($t: ID!) { trajectory(id: $t) { candidates { id target macs } } }`, { t: trajectoryId });
    return { ...seeded, supernetId: job.payload.supernetId, checkpoint: artifact, trajectoryId, autoslim: trajectory.candidates as { id: string; target: number; macs: number }[] };
  }

  async function slim(supernetId: string, constraint: string, targets: number[]): Promise<string> {
    const { startSlimming: job } = await server.gql(
      `mutation($s: ID!, $c: CostConstraint!, $t: [Float!]!) { startSlimming(input: { supernetId: $s, constraint: $c, targets: $t, evalBatchSize: 32 }) { id subjectId } }`,
      { s: supernetId, c: constraint, t: targets },
    );
    await succeeded([job.id]);
    return job.subjectId;
  }

  async function retrain(candidateId: string, datasetId: string, seeds: number[], extra = '', epochs = 1): Promise<{ id: string; payload: Record<string, unknown> }[]> {
    const { retrainCandidate: jobs } = await server.gql(
      `mutation($c: ID!, $d: ID!, $s: [Int!]!, $e: Int!) { retrainCandidate(input: { candidateId: $c, datasetId: $d, seeds: $s, recipe: { epochs: $e } ${extra} }) { id payload } }`,
      { c: candidateId, d: datasetId, s: seeds, e: epochs },
    );
    await succeeded(jobs.map((j: { id: string }) => j.id));
    return jobs;
  }

  async function succeeded(ids: string[]): Promise<void> {
    await eventually(async () => {
      const states = await Promise.all(ids.map(async (id) => (await server.gql(`query($id: ID!) { job(id: $id) { state error } }`, { id })).job));
      const failed = states.find((j) => j.state === 'FAILED');
      if (failed) throw new Error(failed.error);
      return states.every((j) => j.state === 'SUCCEEDED') ? true : undefined;
    });
  }

  async function figures(candidateId: string) {
    const { candidate } = await server.gql(
      `query($c: ID!) { candidate(id: $c) { retrainedTop1Mean retrainedTop1Std retrainedRuns retrainedTop1 { ${INTERVAL} } fineTunedTop1 { ${INTERVAL} }
        comparison { baseline { id macs params } metric budget verdict difference { ${INTERVAL} } protocol { datasetId recipe } } runs { seed init status datasetId } } }`,
      { c: candidateId },
    );
    return candidate;
  }

  it('matches uniform baselines to a trajectory\'s budgets, widest width that fits', async () => {
    const { space, supernetId, trajectoryId } = await searched('match');
    const { createUniformCandidates: matched } = await server.gql(
      `mutation($s: ID!, $t: ID!) { createUniformCandidates(input: { searchSpaceId: $s, matchTrajectory: $t }) { id source widthMultiplier macs params channels } }`,
      { s: space.id, t: trajectoryId },
    );
    expect(matched).toHaveLength(2);
    matched.forEach((c: { source: string; widthMultiplier: number; macs: number; channels: number[] }, i: number) => {
      expect(c.source).toBe('UNIFORM');
      expect(c.channels).toEqual(defaultChannels('mbv2-fmnist', c.widthMultiplier, FMNIST));
      expect(c.macs).toBe(costAt(c.widthMultiplier).macs);
      expect(c.macs).toBeLessThanOrEqual(AUTOSLIM_TARGETS[i]!);
      expect(costAt(Math.round(c.widthMultiplier * 1000 + 1) / 1000).macs).toBeGreaterThan(AUTOSLIM_TARGETS[i]!);
    });
    const { createUniformCandidates: again } = await server.gql(
      `mutation($s: ID!, $t: ID!) { createUniformCandidates(input: { searchSpaceId: $s, matchTrajectory: $t }) { id } }`,
      { s: space.id, t: trajectoryId },
    );
    expect(again.map((c: { id: string }) => c.id)).toEqual(matched.map((c: { id: string }) => c.id));

    const paramsTrajectory = await slim(supernetId, 'PARAMS', [1e5, 1e9]);
    const { createUniformCandidates: byParams } = await server.gql(
      `mutation($s: ID!, $t: ID!) { createUniformCandidates(input: { searchSpaceId: $s, matchTrajectory: $t }) { widthMultiplier params } }`,
      { s: space.id, t: paramsTrajectory },
    );
    // Targets are stored largest first; one above the widest config takes the space's maxWidth.
    expect(byParams[0]).toEqual({ widthMultiplier: 1, params: costAt(1).params });
    expect(byParams[1].params).toBeLessThanOrEqual(1e5);
    expect(costAt(Math.round(byParams[1].widthMultiplier * 1000 + 1) / 1000).params).toBeGreaterThan(1e5);
  });

  it('rejects a uniform request with both, or neither, of widths and matchTrajectory, and trajectories it cannot match', async () => {
    const { projectId, space, supernetId, trajectoryId } = await searched('match-errors');
    const create = (input: string, variables: Record<string, unknown> = {}) =>
      server.gqlError(`mutation($s: ID!, $t: ID) { createUniformCandidates(input: { searchSpaceId: $s, ${input} }) { id } }`, { s: space.id, ...variables });
    expect(await create('widths: [0.5], matchTrajectory: $t', { t: trajectoryId })).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.matchTrajectory' } });
    expect(await create('matchTrajectory: $t', { t: null })).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.widths' } });
    expect(await create('matchTrajectory: $t', { t: '00000000-0000-4000-8000-000000000000' })).toMatchObject({ extensions: { code: 'NOT_FOUND', field: 'input.matchTrajectory' } });

    const tooSmall = await slim(supernetId, 'MACS', [8e6, 1e5]);
    const below = await create('matchTrajectory: $t', { t: tooSmall });
    expect(below).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.matchTrajectory' } });
    expect(below.message).toMatch(/target 100000 \(targets\[1\]\) is below the \d+ macs of the narrowest uniform width, 0\.15/);

    const latency = await slim(supernetId, 'MACS', [5e6]);
    await server.server.orm.em.fork().nativeUpdate(SlimmingTrajectory, { id: latency }, { constraint: 'LATENCY' as never });
    const refused = await create('matchTrajectory: $t', { t: latency });
    expect(refused).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.matchTrajectory' } });
    expect(refused.message).toMatch(/LATENCY/);

    const { createSearchSpace: other } = await server.gql(
      `mutation($p: ID!) { createSearchSpace(input: { projectId: $p, name: "other", architecture: "mbv2-fmnist", maxWidth: 0.75 }) { id } }`,
      { p: projectId },
    );
    expect(await server.gqlError(`mutation($s: ID!, $t: ID!) { createUniformCandidates(input: { searchSpaceId: $s, matchTrajectory: $t }) { id } }`, { s: other.id, t: trajectoryId })).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'input.matchTrajectory' },
    });
    const { candidates } = await server.gql(`query($p: ID!) { candidates(filter: { projectId: $p, source: UNIFORM }) { totalCount } }`, { p: projectId });
    expect(candidates.totalCount).toBe(0);
  });

  it('gives retrained top-1 as a t-interval over seeds and a paired verdict against the matched uniform baseline', async () => {
    const { space, datasetId, trajectoryId, autoslim } = await searched('verdicts');
    const [wide, narrow] = autoslim;
    expect(wide!.target).toBe(8e6);
    expect((await figures(wide!.id)).comparison).toBeNull();

    const { createUniformCandidates: matched } = await server.gql(
      `mutation($s: ID!, $t: ID!) { createUniformCandidates(input: { searchSpaceId: $s, matchTrajectory: $t }) { id macs } }`,
      { s: space.id, t: trajectoryId },
    );
    const [u8, u4] = matched;
    // Uniform candidates on either side of the budget that must not be chosen.
    await server.gql(`mutation($s: ID!) { createUniformCandidates(input: { searchSpaceId: $s, widths: [1.0, 0.35] }) { id } }`, { s: space.id });

    score(wide!.id, 0, 'SCRATCH', 0.8);
    score(wide!.id, 1, 'SCRATCH', 0.82);
    score(wide!.id, 2, 'SCRATCH', 0.84);
    score(u8.id, 0, 'SCRATCH', 0.78);
    score(u8.id, 1, 'SCRATCH', 0.79);
    score(u8.id, 2, 'SCRATCH', 0.7, 0.83);
    await retrain(wide!.id, datasetId, [0, 1, 2]);
    await retrain(u8.id, datasetId, [0, 1, 2]);
    // Seed 2 again: the run that finished last is the one that counts.
    await retrain(u8.id, datasetId, [2]);

    const a = await figures(wide!.id);
    expect(a.retrainedTop1.estimate).toBeCloseTo(0.82, 12);
    expect(a.retrainedTop1.low).toBeCloseTo(0.82 - (T_975_2 * 0.02) / Math.sqrt(3), 9);
    expect(a.retrainedTop1.high).toBeCloseTo(0.82 + (T_975_2 * 0.02) / Math.sqrt(3), 9);
    expect(a.retrainedTop1).toMatchObject({ n: 3, confidence: 0.95 });
    expect(a).toMatchObject({ retrainedRuns: 3, fineTunedTop1: null });
    expect(a.retrainedTop1Mean).toBeCloseTo(0.82, 12);
    expect(a.retrainedTop1Std).toBeCloseTo(0.02, 12);

    const u = await figures(u8.id);
    expect(u.runs).toHaveLength(4);
    expect(u.retrainedTop1.n).toBe(3);
    expect(u.retrainedTop1.estimate).toBeCloseTo(0.8, 12);
    expect(u.retrainedRuns).toBe(3);
    expect(u.retrainedTop1Mean).toBeCloseTo(0.8, 12);
    expect(u.retrainedTop1Std).toBeCloseTo(Math.sqrt(0.0007), 12);
    expect(u.comparison).toBeNull();

    // Differences per seed 0.02, 0.03, 0.01: mean 0.02, sd 0.01, the interval holds zero.
    expect(a.comparison).toMatchObject({ baseline: { id: u8.id, macs: u8.macs }, budget: 8e6, verdict: 'INDISTINGUISHABLE' });
    expect(a.comparison.difference.estimate).toBeCloseTo(0.02, 12);
    expect(a.comparison.difference.low).toBeCloseTo(0.02 - (T_975_2 * 0.01) / Math.sqrt(3), 9);
    expect(a.comparison.difference.high).toBeCloseTo(0.02 + (T_975_2 * 0.01) / Math.sqrt(3), 9);
    expect(a.comparison.difference.n).toBe(3);

    // One shared seed: a difference but no interval.
    score(narrow!.id, 0, 'SCRATCH', 0.7);
    score(u4.id, 0, 'SCRATCH', 0.6);
    score(u4.id, 5, 'SCRATCH', 0.9);
    await retrain(narrow!.id, datasetId, [0]);
    await retrain(u4.id, datasetId, [0, 5]);
    const one = await figures(narrow!.id);
    expect(one.comparison).toMatchObject({ baseline: { id: u4.id }, budget: 4e6, verdict: 'INSUFFICIENT', difference: { n: 1, low: null, high: null } });
    expect(one.comparison.difference.estimate).toBeCloseTo(0.1, 12);
    expect(one.retrainedTop1).toMatchObject({ estimate: 0.7, n: 1, low: null, high: null });

    // Differences 0.10, 0.09, 0.10 over the shared seeds 0–2 (seed 5 has no partner): clearly above zero.
    score(narrow!.id, 1, 'SCRATCH', 0.72);
    score(narrow!.id, 2, 'SCRATCH', 0.74);
    score(u4.id, 1, 'SCRATCH', 0.63);
    score(u4.id, 2, 'SCRATCH', 0.64);
    await retrain(narrow!.id, datasetId, [1, 2]);
    await retrain(u4.id, datasetId, [1, 2]);
    const better = await figures(narrow!.id);
    const sd = Math.sqrt(((0.1 - 0.29 / 3) ** 2 * 2 + (0.09 - 0.29 / 3) ** 2) / 2);
    expect(better.comparison.verdict).toBe('BETTER');
    expect(better.comparison.difference.n).toBe(3);
    expect(better.comparison.difference.estimate).toBeCloseTo(0.29 / 3, 12);
    expect(better.comparison.difference.low).toBeCloseTo(0.29 / 3 - (T_975_2 * sd) / Math.sqrt(3), 9);
    expect(better.comparison.difference.low).toBeGreaterThan(0);
  });

  it('matches the baseline in the trajectory\'s own cost: params under PARAMS, the candidate\'s own MACs under LATENCY', async () => {
    const { space, supernetId } = await searched('params');
    const trajectoryId = await slim(supernetId, 'PARAMS', [PARAMS_TARGET]);
    const { trajectory } = await server.gql(`query($t: ID!) { trajectory(id: $t) { candidates { id target macs params } } }`, { t: trajectoryId });
    const [candidate] = trajectory.candidates;
    expect(candidate).toMatchObject({ target: PARAMS_TARGET, params: costAt(PARAMS_WIDTH).params });
    const { createUniformCandidates: [matched] } = await server.gql(
      `mutation($s: ID!, $t: ID!) { createUniformCandidates(input: { searchSpaceId: $s, matchTrajectory: $t }) { id macs params } }`,
      { s: space.id, t: trajectoryId },
    );
    // Narrower than the candidate: the closest below its MACs, but not the params budget's match.
    const { createUniformCandidates: [narrower] } = await server.gql(`mutation($s: ID!) { createUniformCandidates(input: { searchSpaceId: $s, widths: [0.5] }) { id macs } }`, { s: space.id });
    expect(matched.params).toBeLessThanOrEqual(PARAMS_TARGET);
    expect(matched.macs).toBeGreaterThan(candidate.macs);
    expect(narrower.macs).toBeLessThanOrEqual(candidate.macs);

    expect((await figures(candidate.id)).comparison).toMatchObject({ baseline: { id: matched.id }, metric: 'PARAMS', budget: PARAMS_TARGET });
    await server.server.orm.em.fork().nativeUpdate(SlimmingTrajectory, { id: trajectoryId }, { constraint: 'LATENCY' as never });
    expect((await figures(candidate.id)).comparison).toMatchObject({ baseline: { id: narrower.id }, metric: 'MACS', budget: candidate.macs });
  });

  it('counts and pairs only the runs of one protocol, the dataset and recipe of the candidate\'s latest run', async () => {
    const { projectId, space, datasetId, trajectoryId, autoslim } = await searched('protocol');
    const [wide] = autoslim;
    const { createUniformCandidates: [u8] } = await server.gql(
      `mutation($s: ID!, $t: ID!) { createUniformCandidates(input: { searchSpaceId: $s, matchTrajectory: $t }) { id } }`,
      { s: space.id, t: trajectoryId },
    );
    const { registerDataset: other } = await server.gql(
      `mutation($p: ID!) { registerDataset(input: { projectId: $p, name: "synthetic-2", format: SYNTHETIC,
          synthetic: { numClasses: 10, trainSize: 400, testSize: 100, channels: 1, size: 28 } }) { id } }`,
      { p: projectId },
    );

    score(wide!.id, 0, 'SCRATCH', 0.8);
    score(wide!.id, 1, 'SCRATCH', 0.82);
    score(wide!.id, 2, 'SCRATCH', 0.84);
    score(u8.id, 0, 'SCRATCH', 0.78, 0.9);
    score(u8.id, 1, 'SCRATCH', 0.79, 0.91);
    score(u8.id, 2, 'SCRATCH', 0.81, 0.92);
    await retrain(wide!.id, datasetId, [0, 1, 2]);
    await retrain(u8.id, datasetId, [0, 1, 2]);
    // The baseline retrained again for longer: its own figures move to the new recipe, while the
    // comparison keeps to the candidate's one-epoch runs on both sides.
    await retrain(u8.id, datasetId, [0, 1, 2], '', 2);
    const u = await figures(u8.id);
    expect(u.runs.every((r: { datasetId: string }) => r.datasetId === datasetId)).toBe(true);
    expect(u.retrainedTop1).toMatchObject({ n: 3 });
    expect(u.retrainedTop1.estimate).toBeCloseTo(0.91, 12);
    expect(u.retrainedRuns).toBe(3);
    expect(u.retrainedTop1Mean).toBeCloseTo(0.91, 12);
    const a = await figures(wide!.id);
    expect(a.comparison.protocol).toEqual({ datasetId, recipe: expect.objectContaining({ epochs: 1 }) });
    expect(a.comparison.difference.n).toBe(3);
    expect(a.comparison.difference.estimate).toBeCloseTo((0.02 + 0.03 + 0.03) / 3, 12);

    // The candidate retrained on another dataset: a new series of one seed, which the baseline has
    // not been retrained in yet, and then has.
    score(wide!.id, 0, 'SCRATCH', 0.5);
    await retrain(wide!.id, other.id, [0]);
    const moved = await figures(wide!.id);
    expect(moved.retrainedTop1).toMatchObject({ estimate: 0.5, n: 1 });
    expect(moved).toMatchObject({ retrainedRuns: 1, retrainedTop1Mean: 0.5, retrainedTop1Std: null });
    expect(moved.comparison).toMatchObject({ protocol: { datasetId: other.id }, difference: null, verdict: 'INSUFFICIENT' });
    score(u8.id, 0, 'SCRATCH', 0.45);
    await retrain(u8.id, other.id, [0]);
    const paired = await figures(wide!.id);
    expect(paired.comparison.difference).toMatchObject({ n: 1, low: null, high: null });
    expect(paired.comparison.difference.estimate).toBeCloseTo(0.05, 12);
  });

  it('retrains from the supernet: recorded on the run and in the payload, counted apart from scratch', async () => {
    const { projectId, space, datasetId, supernetId, checkpoint, autoslim } = await searched('fine-tune');
    const [wide] = autoslim;
    score(wide!.id, 0, 'SCRATCH', 0.8);
    score(wide!.id, 0, 'SUPERNET', 0.88);
    score(wide!.id, 1, 'SUPERNET', 0.9);
    await retrain(wide!.id, datasetId, [0]);
    const [job] = await retrain(wide!.id, datasetId, [0, 1], ', init: SUPERNET');
    expect(job!.payload).toMatchObject({ init: 'SUPERNET', supernetId, initCheckpoint: { uri: checkpoint.uri, sha256: checkpoint.sha256 } });
    const f = await figures(wide!.id);
    expect(f.fineTunedTop1).toMatchObject({ n: 2, confidence: 0.95 });
    expect(f.fineTunedTop1.estimate).toBeCloseTo(0.89, 12);
    expect(f.retrainedTop1).toMatchObject({ estimate: 0.8, n: 1 });
    expect(f).toMatchObject({ retrainedRuns: 1, retrainedTop1Mean: 0.8, retrainedTop1Std: null });
    expect(f.runs.map((r: { init: string }) => r.init).sort()).toEqual(['SCRATCH', 'SUPERNET', 'SUPERNET']);

    const { createUniformCandidates: [uniform] } = await server.gql(`mutation($s: ID!) { createUniformCandidates(input: { searchSpaceId: $s, widths: [0.5] }) { id } }`, { s: space.id });
    score(uniform.id, 3, 'SUPERNET', 0.7);
    const [fromGiven] = await retrain(uniform.id, datasetId, [3], `, init: SUPERNET, supernetId: "${supernetId}"`);
    expect(fromGiven!.payload).toMatchObject({ init: 'SUPERNET', supernetId });

    const error = (candidateId: string, extra: string) =>
      server.gqlError(`mutation($c: ID!, $d: ID!) { retrainCandidate(input: { candidateId: $c, datasetId: $d, recipe: { epochs: 1 } ${extra} }) { id } }`, { c: candidateId, d: datasetId });
    const refused = await error(uniform.id, ', init: SUPERNET');
    expect(refused).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.supernetId' } });
    expect(refused.message).toMatch(/UNIFORM candidate belongs to no trajectory/);
    expect(await error(wide!.id, `, supernetId: "${supernetId}"`)).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.supernetId' } });

    const untrained = await trainSupernet(server, space.id, datasetId, 'untrained');
    await trainer.whenStarted(untrained.id);
    expect(await error(wide!.id, `, init: SUPERNET, supernetId: "${untrained.payload.supernetId}"`)).toMatchObject({
      extensions: { code: 'FAILED_PRECONDITION', field: 'input.supernetId' },
    });
    trainer.finish(untrained.id);
    const { createSearchSpace: other } = await server.gql(
      `mutation($p: ID!) { createSearchSpace(input: { projectId: $p, name: "other", architecture: "mbv2-fmnist", maxWidth: 0.75 }) { id } }`,
      { p: projectId },
    );
    const elsewhere = await trainSupernet(server, other.id, datasetId, 'elsewhere');
    await trainer.whenStarted(elsewhere.id);
    expect(await error(wide!.id, `, init: SUPERNET, supernetId: "${elsewhere.payload.supernetId}"`)).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'input.supernetId' },
    });
    trainer.finish(elsewhere.id);
    const { candidate } = await server.gql(`query($c: ID!) { candidate(id: $c) { runs { id } } }`, { c: wide!.id });
    expect(candidate.runs).toHaveLength(3);
  });

  it('reads the figures of a whole page in a fixed number of queries', async () => {
    const { projectId, space, datasetId, trajectoryId, autoslim } = await searched('batched');
    await server.gql(`mutation($s: ID!, $t: ID!) { createUniformCandidates(input: { searchSpaceId: $s, matchTrajectory: $t }) { id } }`, { s: space.id, t: trajectoryId });
    const { createUniformCandidates: uniform } = await server.gql(
      `mutation($s: ID!) { createUniformCandidates(input: { searchSpaceId: $s, widths: [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8] }) { id } }`,
      { s: space.id },
    );
    score(autoslim[0]!.id, 0, 'SCRATCH', 0.8);
    score(uniform[0].id, 0, 'SCRATCH', 0.6);
    await retrain(autoslim[0]!.id, datasetId, [0]);
    await retrain(uniform[0].id, datasetId, [0]);
    const knex = server.server.orm.em.getConnection().getKnex();
    const statements: string[] = [];
    const record = (query: { sql: string }) => statements.push(query.sql);
    knex.on('query', record);
    try {
      const { candidates } = await server.gql(
        `query($p: ID!) { candidates(filter: { projectId: $p }, first: 50) { edges { node { id retrainedTop1 { n } fineTunedTop1 { n }
          comparison { verdict baseline { retrainedTop1 { n } } } } } } }`,
        { p: projectId },
      );
      expect(candidates.edges.length).toBeGreaterThanOrEqual(12);
      expect(candidates.edges.filter((e: { node: { retrainedTop1: unknown } }) => e.node.retrainedTop1)).toHaveLength(2);
    } finally {
      knex.off('query', record);
    }
    // The runs of the page, the comparisons' runs, then the baselines' runs: not one per candidate.
    expect(statements.filter((sql) => /from [`"]training_run[`"]/i.test(sql)).length).toBeLessThanOrEqual(3);
    expect(statements.filter((sql) => /from [`"]candidate[`"]/i.test(sql)).length).toBeLessThanOrEqual(3);
  });
});

/**
 * The scripted SLIM job: the 0.75x and 0.5x lists as AutoSlim candidates of the MACS trajectory with
 * AUTOSLIM_TARGETS, the 0.55x list for the PARAMS trajectory with PARAMS_TARGET, nothing for the others.
 */
async function reportCandidates(job: JobSpec, ctx: JobContext): Promise<unknown> {
  const { trajectoryId, targets, constraint } = job.payload as { trajectoryId: string; targets: number[]; constraint: string };
  if (constraint === 'PARAMS' && JSON.stringify(targets) === JSON.stringify([PARAMS_TARGET])) {
    await ctx.report({ type: 'candidate', trajectoryId, target: PARAMS_TARGET, channels: [...defaultChannels('mbv2-fmnist', PARAMS_WIDTH, FMNIST)], searchAccuracy: 0.8, step: 1 });
    return {};
  }
  if (constraint !== 'MACS' || JSON.stringify(targets) !== JSON.stringify(AUTOSLIM_TARGETS)) return {};
  for (const [i, target] of AUTOSLIM_TARGETS.entries()) {
    await ctx.report({ type: 'candidate', trajectoryId, target, channels: [...defaultChannels('mbv2-fmnist', AUTOSLIM_WIDTHS[i]!, FMNIST)], searchAccuracy: 0.9 - i / 10, step: i + 1 });
  }
  return {};
}
