import { createHash } from 'node:crypto';
import { defaultChannels, evenTargets, profile, uniformConfig } from '../../autoslim';
import type { JobContext, JobSpec } from '../../executors/contract';
import { resolveSearchSpace } from '../../executors/search-space';
import { ProjectRole, TokenScope } from '../../schema/enums';
import { TokenClient, userWithToken } from '../support/auth';
import { DATABASES } from '../support/databases';
import { seedProject } from '../support/fixtures';
import { ScriptedPlugin } from '../support/plugins';
import { TestServer, eventually } from '../support/server';

const FMNIST = { inputSize: 28, numClasses: 10 };

/** A number in [0, 1) fixed by `text`: the fake executors' results, the same whenever asked. */
function fraction(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}

/** What the fake evaluator scores a config sliced from a checkpoint: BATCH_STATS ranks the configs the other way round from RECALIBRATED. */
function supernetTop1(sha256: string, key: string, bnMode: string): number {
  const f = fraction(`${sha256}/${key}`);
  return bnMode === 'RECALIBRATED' ? 0.3 + 0.6 * f : 0.9 - 0.6 * f;
}

/** What the fake trainer retrains a candidate to: following the RECALIBRATED score of supernet A, plus seed noise; longer recipes gain 0.05. */
let shaA = '';
const retrainedTop1 = (candidateId: string, seed: number, epochs: number) =>
  0.5 + 0.3 * supernetTop1(shaA, candidateId, 'RECALIBRATED') + 0.02 * fraction(`${candidateId}#${seed}`) + (epochs === 1 ? 0 : 0.05);

interface EvaluationResult {
  key: string;
  bnMode: string;
  top1: number;
  loss: number;
  images: number;
}

interface EvaluatePayload {
  split: 'SEARCH' | 'TEST';
  bnModes: string[];
  configs: { key: string; channels: number[] }[];
  checkpoint: { uri: string; sha256: string };
  evalBatchSize: number;
  evalBatches: number;
  calibrationImages: number;
  calibrationSeed: number;
}

const STUDY_FIELDS = `id seeds recipe complete sampledConfigs evalBatchSize supernet { id } evaluationJob { id kind state payload }
  configs { origin macs params candidate { id source configHash channels runs { seed status recipe datasetId } } scores { bnMode accuracy loss } retrainedTop1 { estimate low high n confidence } }
  correlations { bnMode configs kendallTau { estimate low high n confidence } spearmanRho { estimate low high n confidence } }`;

interface StudyConfig {
  origin: string;
  macs: number;
  candidate: { id: string; source: string; configHash: string; channels: number[]; runs: { seed: number; status: string; recipe: { epochs: number }; datasetId: string }[] };
  scores: { bnMode: string; accuracy: number; loss: number }[];
  retrainedTop1: { estimate: number; low: number | null; high: number | null; n: number; confidence: number } | null;
}

/** Kendall's τ by counting pairs, for values without ties. */
function tauByHand(x: number[], y: number[]): number {
  let agree = 0;
  for (let i = 0; i < x.length; i++) for (let j = i + 1; j < x.length; j++) agree += Math.sign(x[i]! - x[j]!) * Math.sign(y[i]! - y[j]!);
  return agree / ((x.length * (x.length - 1)) / 2);
}

/** Spearman's ρ = 1 − 6 Σd² / (n(n² − 1)), for values without ties. */
function rhoByHand(x: number[], y: number[]): number {
  const rank = (v: number[]) => v.map((a) => v.filter((b) => b < a).length + 1);
  const [rx, ry] = [rank(x), rank(y)];
  const d2 = rx.reduce((s, r, i) => s + (r - ry[i]!) ** 2, 0);
  return 1 - (6 * d2) / (x.length * (x.length ** 2 - 1));
}

describe.each(DATABASES)('ranking studies and inherited accuracy on %s', (kind) => {
  let server: TestServer;
  let alice: TokenClient;
  let bob: TokenClient;
  let carol: TokenClient;
  let seeded: Awaited<ReturnType<typeof seedProject>>;
  let supernetId: string;
  /** EVALUATE jobs of a checkpoint and split wait here while a test holds them. */
  const held = new Map<string, Promise<void>>();
  /** What a faulty evaluator makes of the results of a checkpoint and split. */
  const faults = new Map<string, (results: EvaluationResult[]) => EvaluationResult[]>();

  const trainer = new ScriptedPlugin(['TRAIN_SUPERNET', 'RETRAIN'], async (job, ctx, test) => {
    if (job.kind === 'TRAIN_SUPERNET') return test.awaitOutcome(job, ctx);
    const payload = job.payload as { runId: string; candidateId: string; recipe: { seed: number; epochs: number } };
    const top1 = retrainedTop1(payload.candidateId, payload.recipe.seed, payload.recipe.epochs);
    await ctx.report({ type: 'runSummary', runId: payload.runId, summary: { top1, top5: 0.99 } });
    return { top1 };
  });
  const slimmer = new ScriptedPlugin(['SLIM'], reportCandidates, 'scripted-slim');
  const evaluator = new ScriptedPlugin(
    ['EVALUATE'],
    async (job) => {
      const payload = job.payload as EvaluatePayload;
      const at = `${payload.checkpoint.sha256}/${payload.split}`;
      await held.get(at);
      const results = payload.configs.flatMap(({ key }) =>
        payload.bnModes.map((bnMode) => {
          const top1 = supernetTop1(payload.checkpoint.sha256, key, bnMode);
          return { key, bnMode, top1, loss: 2 * (1 - top1), images: 40 };
        }),
      );
      return { results: faults.get(at)?.(results) ?? results, provider: 'cpu', evalSeconds: 0.1 };
    },
    'scripted-evaluate',
  );

  const gql = (query: string, variables: Record<string, unknown> = {}) => alice.gql(query, variables);
  const jobsOf = async (jobKind: string | null) =>
    (await gql(`query($p: ID!, $k: JobKind) { jobs(filter: { projectId: $p, kind: $k }, first: 500) { id state payload } }`, { p: seeded.projectId, k: jobKind }))
      .jobs as { id: string; state: string; payload: EvaluatePayload }[];
  const settled = (jobKind: string) =>
    eventually(async () => ((await jobsOf(jobKind)).every((j) => j.state === 'SUCCEEDED') ? true : undefined), 60_000);

  /** A supernet with a checkpoint of `weights`, its training finished. */
  async function supernetWith(name: string, weights: string): Promise<{ id: string; sha256: string }> {
    const { trainSupernet: job } = await gql(
      `mutation($s: ID!, $d: ID!, $n: String!) { trainSupernet(input: { name: $n, searchSpaceId: $s, datasetId: $d, recipe: { epochs: 1 } }) { id payload } }`,
      { s: seeded.space.id, d: seeded.datasetId, n: name },
    );
    const ctx = await trainer.whenStarted(job.id);
    const artifact = await ctx.artifacts.put('CHECKPOINT', `${name}.safetensors`, Buffer.from(weights));
    await ctx.report({ type: 'checkpoint', runId: job.payload.runId, artifact, step: 1 });
    trainer.finish(job.id);
    return { id: job.payload.supernetId, sha256: artifact.sha256 };
  }

  const STUDY = `mutation($input: StudyRankingInput!) { studyRanking(input: $input) { ${STUDY_FIELDS} } }`;
  const studyInput = (extra: Record<string, unknown> = {}) => ({ supernetId, seeds: [0, 1], recipe: { epochs: 1 }, sampledConfigs: 4, evalBatchSize: 32, calibrationImages: 256, ...extra });

  beforeAll(async () => {
    server = await TestServer.start(kind, [trainer, slimmer, evaluator], undefined, { auth: true });
    alice = (await userWithToken(server, 'alice', [TokenScope.WRITE])).client;
    seeded = await seedProject(alice, 'ranking');
    const { createProject: other } = await alice.gql(`mutation { createProject(input: { name: "elsewhere" }) { id } }`);
    bob = (await userWithToken(server, 'bob', [TokenScope.WRITE], { roles: { [other.id]: ProjectRole.VIEWER } })).client;
    carol = (await userWithToken(server, 'carol', [TokenScope.WRITE], { roles: { [seeded.projectId]: ProjectRole.VIEWER } })).client;
    const a = await supernetWith('supernet-a', 'weights of A');
    supernetId = a.id;
    shaA = a.sha256;
  });

  afterAll(async () => {
    await server.stop();
  });

  it('queues the evaluation of the AutoSlim candidates when a SLIM succeeds, and stores their inherited accuracy', async () => {
    await gql(`mutation($s: ID!) { createUniformCandidates(input: { searchSpaceId: $s, widths: [0.35, 1.0] }) { id } }`, { s: seeded.space.id });
    const { startSlimming: slim } = await gql(`mutation($s: ID!) { startSlimming(input: { supernetId: $s, targets: [6e6, 3e6], evalBatchSize: 32 }) { id payload } }`, {
      s: supernetId,
    });
    await settled('SLIM');
    await settled('EVALUATE');
    const [evaluation, ...others] = await jobsOf('EVALUATE');
    expect(others).toEqual([]);
    const { trajectory } = await gql(`query($t: ID!) { trajectory(id: $t) { candidates { id inheritedTop1 inheritedFrom { id } } } }`, { t: slim.payload.trajectoryId });
    expect(trajectory.candidates).toHaveLength(2);
    expect(evaluation!.payload).toMatchObject({
      split: 'TEST',
      bnModes: ['RECALIBRATED'],
      evalBatchSize: 1024,
      calibrationImages: 1024,
      calibrationSeed: 0,
      checkpoint: { sha256: shaA },
    });
    expect(evaluation!.payload.configs.map((c) => c.key).sort()).toEqual(trajectory.candidates.map((c: { id: string }) => c.id).sort());
    for (const candidate of trajectory.candidates) {
      expect(candidate.inheritedTop1).toBeCloseTo(supernetTop1(shaA, candidate.id, 'RECALIBRATED'), 12);
      expect(candidate.inheritedFrom).toEqual({ id: supernetId });
    }
  });

  it('studies the ranking: spread sampled configs, the uniform and AutoSlim candidates, one evaluation, retraining that reuses identical runs', async () => {
    const { candidates: board } = await gql(`query($p: ID!) { candidates(filter: { projectId: $p }) { edges { node { id source widthMultiplier } } } }`, { p: seeded.projectId });
    const nodes = board.edges.map((e: { node: { id: string; source: string; widthMultiplier: number | null } }) => e.node);
    const [autoslim, otherAutoslim] = nodes.filter((n: { source: string }) => n.source === 'AUTOSLIM');
    const narrow = nodes.find((n: { widthMultiplier: number | null }) => n.widthMultiplier === 0.35);
    const { registerDataset: otherDataset } = await gql(
      `mutation($p: ID!) { registerDataset(input: { projectId: $p, name: "synthetic-2", format: SYNTHETIC,
          synthetic: { numClasses: 10, trainSize: 400, testSize: 100, channels: 1, size: 28 } }) { id } }`,
      { p: seeded.projectId },
    );
    const retrain = (candidateId: string, seeds: number[], epochs: number, datasetId = seeded.datasetId) =>
      gql(`mutation($c: ID!, $d: ID!, $s: [Int!]!, $e: Int!) { retrainCandidate(input: { candidateId: $c, datasetId: $d, seeds: $s, recipe: { epochs: $e } }) { id } }`, {
        c: candidateId,
        d: datasetId,
        s: seeds,
        e: epochs,
      });
    // Retrained just before with the study's recipe and seeds: reused. With another recipe, or on another dataset: not.
    await retrain(autoslim.id, [0, 1], 1);
    await retrain(narrow.id, [0], 2);
    await retrain(otherAutoslim.id, [0, 1], 1, otherDataset.id);
    const retrainsBefore = (await jobsOf('RETRAIN')).length;
    const evaluationsBefore = (await jobsOf('EVALUATE')).length;

    const { studyRanking: study } = await gql(STUDY, { input: studyInput() });
    const configs = study.configs as StudyConfig[];
    expect(configs.map((c) => c.origin).sort()).toEqual(['AUTOSLIM', 'AUTOSLIM', 'SAMPLED', 'SAMPLED', 'SAMPLED', 'SAMPLED', 'UNIFORM', 'UNIFORM']);
    expect(study).toMatchObject({ seeds: [0, 1], sampledConfigs: 4, evalBatchSize: 32, complete: false, supernet: { id: supernetId } });
    expect(study.recipe).toMatchObject({ epochs: 1, horizontalFlip: true });

    // Four distinct SAMPLED candidates, each nearer its own MAC target than any other sampled one.
    const sampled = configs.filter((c) => c.origin === 'SAMPLED').sort((a, b) => a.macs - b.macs);
    expect(new Set(sampled.map((c) => c.candidate.configHash)).size).toBe(4);
    expect(sampled.every((c) => c.candidate.source === 'SAMPLED')).toBe(true);
    const { table, architecture, options, structure } = resolveSearchSpace({
      architecture: 'mbv2-fmnist',
      ...FMNIST,
      maxChannels: seeded.space.maxChannels,
      groups: 12,
      divisor: 8,
      unitOverrides: {},
    });
    const macs = (position: number) => profile(architecture, uniformConfig(table, position), options, 'reference', structure).macs;
    const targets = evenTargets(macs(0), macs(1), 4);
    targets.forEach((target, k) => {
      const nearest = sampled.reduce((best, c) => (Math.abs(c.macs - target) < Math.abs(best.macs - target) ? c : best));
      expect(nearest).toBe(sampled[k]);
    });

    // One SEARCH evaluation of all eight under both BN modes, one inherited evaluation of the two
    // uniform baselines, and 8 × 2 retrainings less the two that already existed.
    expect(study.evaluationJob).toMatchObject({ kind: 'EVALUATE' });
    expect(study.evaluationJob.payload).toMatchObject({ split: 'SEARCH', bnModes: ['BATCH_STATS', 'RECALIBRATED'], evalBatchSize: 32, evalBatches: 1, calibrationImages: 256 });
    expect(study.evaluationJob.payload.configs.map((c: { key: string }) => c.key).sort()).toEqual(configs.map((c) => c.candidate.id).sort());
    const evaluations = await jobsOf('EVALUATE');
    expect(evaluations).toHaveLength(evaluationsBefore + 2);
    const inherited = evaluations.find((j) => j.payload.split === 'TEST' && j.id !== study.evaluationJob.id && j.payload.configs.length === 2 && j.payload.configs.every((c) => configs.some((s) => s.origin === 'UNIFORM' && s.candidate.id === c.key)));
    expect(inherited).toBeDefined();
    expect((await jobsOf('RETRAIN')).length).toBe(retrainsBefore + 8 * 2 - 2);

    // The same study again: the same sampled candidates, and nothing left to retrain.
    const { studyRanking: again } = await gql(STUDY, { input: studyInput() });
    expect((again.configs as StudyConfig[]).map((c) => c.candidate.id).sort()).toEqual(configs.map((c) => c.candidate.id).sort());
    expect((await jobsOf('RETRAIN')).length).toBe(retrainsBefore + 8 * 2 - 2);
    const { supernet } = await gql(`query($s: ID!) { supernet(id: $s) { rankingStudies { id } } }`, { s: supernetId });
    expect(supernet.rankingStudies).toEqual([{ id: study.id }, { id: again.id }]);
  });

  it('scores, retrained intervals and rank correlations follow the results, computed as by hand', async () => {
    const { supernet } = await gql(`query($s: ID!) { supernet(id: $s) { rankingStudies { id } } }`, { s: supernetId });
    const studyId = supernet.rankingStudies[0].id;
    await settled('EVALUATE');
    await settled('RETRAIN');
    const { rankingStudy: study } = await gql(`query($id: ID!) { rankingStudy(id: $id) { ${STUDY_FIELDS} } }`, { id: studyId });
    expect(study.complete).toBe(true);
    const configs = study.configs as StudyConfig[];
    for (const config of configs) {
      expect(config.scores.map((s) => s.bnMode)).toEqual(['BATCH_STATS', 'RECALIBRATED']);
      for (const score of config.scores) {
        expect(score.accuracy).toBeCloseTo(supernetTop1(shaA, config.candidate.id, score.bnMode), 12);
        expect(score.loss).toBeCloseTo(2 * (1 - score.accuracy), 12);
      }
      // The study's runs only: the narrow baseline's longer retraining is not among them.
      const top1 = [0, 1].map((seed) => retrainedTop1(config.candidate.id, seed, 1));
      expect(config.retrainedTop1).toMatchObject({ n: 2, confidence: 0.95 });
      expect(config.retrainedTop1!.estimate).toBeCloseTo((top1[0]! + top1[1]!) / 2, 12);
      expect(config.retrainedTop1!.low).toBeLessThan(config.retrainedTop1!.estimate);
      expect(config.candidate.runs.filter((r) => r.recipe.epochs === 1 && r.datasetId === seeded.datasetId).map((r) => r.seed).sort()).toEqual([0, 1]);
    }
    expect(study.correlations.map((c: { bnMode: string }) => c.bnMode)).toEqual(['BATCH_STATS', 'RECALIBRATED']);
    for (const correlation of study.correlations) {
      const x = configs.map((c) => c.scores.find((s) => s.bnMode === correlation.bnMode)!.accuracy);
      const y = configs.map((c) => c.retrainedTop1!.estimate);
      expect(correlation.configs).toBe(8);
      expect(correlation.kendallTau.estimate).toBeCloseTo(tauByHand(x, y), 12);
      expect(correlation.spearmanRho.estimate).toBeCloseTo(rhoByHand(x, y), 12);
      for (const interval of [correlation.kendallTau, correlation.spearmanRho]) {
        expect(interval).toMatchObject({ n: 8, confidence: 0.95 });
        expect(interval.low).toBeLessThanOrEqual(interval.estimate);
        expect(interval.high).toBeGreaterThanOrEqual(interval.estimate);
        expect(interval.high).toBeLessThanOrEqual(1);
      }
    }
    // Retrained accuracy follows the RECALIBRATED score by construction, and BATCH_STATS ranks backwards.
    const [batchStats, recalibrated] = study.correlations;
    expect(recalibrated.kendallTau.estimate).toBeGreaterThan(0.5);
    expect(batchStats.kendallTau.estimate).toBeCloseTo(-recalibrated.kendallTau.estimate, 12);
    // Asked again, the bootstrap gives the same interval.
    const { rankingStudy: twice } = await gql(`query($id: ID!) { rankingStudy(id: $id) { correlations { kendallTau { low high } } } }`, { id: studyId });
    expect(twice.correlations.map((c: { kendallTau: unknown }) => c.kendallTau)).toEqual(study.correlations.map((c: { kendallTau: { low: number; high: number } }) => ({ low: c.kendallTau.low, high: c.kendallTau.high })));
  });

  it("reads every study's configurations and their retrained top-1 in one query each, however many there are", async () => {
    const QUERY = `query($s: ID!) { supernet(id: $s) { rankingStudies { id configs { candidate { id } retrainedTop1 { n } } } } }`;
    const knex = server.server.orm.em.getConnection().getKnex();
    const statements: string[] = [];
    const record = (query: { sql: string }) => statements.push(query.sql);
    knex.on('query', record);
    let studies: { configs: { retrainedTop1: { n: number } | null }[] }[];
    try {
      studies = (await gql(QUERY, { s: supernetId })).supernet.rankingStudies;
    } finally {
      knex.off('query', record);
    }
    expect(studies.length).toBeGreaterThanOrEqual(2);
    expect(studies.flatMap((s) => s.configs).length).toBeGreaterThanOrEqual(16);
    expect(studies.every((s) => s.configs.every((c) => c.retrainedTop1?.n === 2))).toBe(true);
    expect(statements.filter((sql) => /from [`"]training_run[`"]/i.test(sql))).toHaveLength(1);
    expect(statements.filter((sql) => /from [`"]ranking_study_config[`"]/i.test(sql))).toHaveLength(1);
  });

  it('keeps an inherited accuracy with the supernet that set it', async () => {
    const b = await supernetWith('supernet-b', 'weights of B');
    const { createUniformCandidates: [fresh] } = await gql(`mutation($s: ID!) { createUniformCandidates(input: { searchSpaceId: $s, widths: [0.6] }) { id } }`, {
      s: seeded.space.id,
    });
    let release!: () => void;
    held.set(`${shaA}/TEST`, new Promise<void>((resolve) => (release = resolve)));
    const before = (await jobsOf('EVALUATE')).length;
    await gql(STUDY, { input: studyInput({ sampledConfigs: 0 }) });
    await gql(STUDY, { input: studyInput({ supernetId: b.id, sampledConfigs: 0 }) });
    const evaluations = await jobsOf('EVALUATE');
    const queued = evaluations.slice(0, evaluations.length - before);
    // Two SEARCH evaluations and one inherited evaluation per supernet, each of the one baseline without it.
    const inherited = queued.filter((j) => j.payload.split === 'TEST');
    expect(inherited.map((j) => j.payload.configs.map((c) => c.key))).toEqual([[fresh.id], [fresh.id]]);
    const fromB = await eventually(async () => {
      const { candidate } = await gql(`query($c: ID!) { candidate(id: $c) { inheritedTop1 inheritedFrom { id } } }`, { c: fresh.id });
      return candidate.inheritedFrom ? candidate : undefined;
    });
    expect(fromB.inheritedFrom).toEqual({ id: b.id });
    expect(fromB.inheritedTop1).toBeCloseTo(supernetTop1(b.sha256, fresh.id, 'RECALIBRATED'), 12);
    release();
    await settled('EVALUATE');
    const { candidate } = await gql(`query($c: ID!) { candidate(id: $c) { inheritedTop1 inheritedFrom { id } } }`, { c: fresh.id });
    expect(candidate).toEqual(fromB);
    await settled('RETRAIN');
  });

  it('fails an EVALUATE job whose result leaves out, repeats or misstates a score, and takes a good one on retry', async () => {
    const c = await supernetWith('supernet-c', 'weights of C');
    let fault = (results: EvaluationResult[]) => results.slice(1);
    faults.set(`${c.sha256}/SEARCH`, (results) => fault(results));
    const { studyRanking: study } = await gql(STUDY, { input: studyInput({ supernetId: c.id, sampledConfigs: 0 }) });
    const evaluation = study.evaluationJob.id;
    const [first] = study.evaluationJob.payload.configs;
    const ended = () =>
      eventually(async () => {
        const { job } = await gql(`query($id: ID!) { job(id: $id) { state error } }`, { id: evaluation });
        return job.state === 'FAILED' || job.state === 'SUCCEEDED' ? job : undefined;
      });
    const retried = async () => {
      await gql(`mutation($id: ID!) { retryJob(id: $id) { id } }`, { id: evaluation });
      return ended();
    };

    expect(await ended()).toEqual({ state: 'FAILED', error: `the EVALUATE result was refused: it leaves out config ${first.key} in BATCH_STATS` });
    fault = (results) => [...results, results[0]!];
    expect((await retried()).error).toBe(`the EVALUATE result was refused: results[${study.configs.length * 2}] scores ${first.key} in BATCH_STATS a second time`);
    fault = (results) => results.map((r, i) => (i === 1 ? { ...r, top1: 1.5 } : r));
    expect((await retried()).error).toBe('the EVALUATE result was refused: results[1].top1 must be in [0, 1]');
    const { rankingStudy: unscored } = await gql(`query($id: ID!) { rankingStudy(id: $id) { configs { scores { bnMode } } } }`, { id: study.id });
    expect(unscored.configs.every((config: { scores: unknown[] }) => config.scores.length === 0)).toBe(true);

    faults.delete(`${c.sha256}/SEARCH`);
    expect(await retried()).toEqual({ state: 'SUCCEEDED', error: null });
    const { rankingStudy: scored } = await gql(`query($id: ID!) { rankingStudy(id: $id) { configs { scores { bnMode } } } }`, { id: study.id });
    expect(scored.configs.every((config: { scores: unknown[] }) => config.scores.length === 2)).toBe(true);
    await settled('RETRAIN');
  });

  it('refuses bad input naming the field, and writes nothing', async () => {
    const jobsBefore = (await jobsOf(null)).length;
    const refuse = async (input: Record<string, unknown>) => (await alice.error(STUDY, { input: studyInput(input) })).extensions;
    expect(await refuse({ sampledConfigs: 65 })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.sampledConfigs' });
    expect(await refuse({ seeds: [] })).toMatchObject({ field: 'input.seeds' });
    expect(await refuse({ seeds: [3, 3] })).toMatchObject({ field: 'input.seeds' });
    expect(await refuse({ seeds: [-1] })).toMatchObject({ field: 'input.seeds[0]' });
    expect(await refuse({ recipe: { epochs: 0 } })).toMatchObject({ field: 'input.recipe.epochs' });
    expect(await refuse({ recipe: { epochs: 1, batchSize: 100_000 } })).toMatchObject({ field: 'input.recipe.batchSize' });
    const { datasets } = await gql(`query($p: ID!) { datasets(projectId: $p) { name trainSize searchSize } }`, { p: seeded.projectId });
    const dataset = datasets.find((d: { name: string }) => d.name === 'synthetic');
    expect(await refuse({ evalBatchSize: dataset.searchSize + 1 })).toMatchObject({ field: 'input.evalBatchSize' });
    expect(await refuse({ evalBatches: 0 })).toMatchObject({ field: 'input.evalBatches' });
    expect(await refuse({ evalBatches: 17 })).toMatchObject({ field: 'input.evalBatches' });
    expect(await refuse({ calibrationImages: 1 })).toMatchObject({ field: 'input.calibrationImages' });
    const tooMany = await alice.error(STUDY, { input: studyInput({ calibrationImages: dataset.trainSize - dataset.searchSize + 1 }) });
    expect(tooMany.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.calibrationImages' });
    expect(tooMany.message).toMatch(new RegExp(`must not exceed the ${dataset.trainSize - dataset.searchSize} training images outside the search hold-out`));
    expect(await refuse({ sampleSeed: -1 })).toMatchObject({ field: 'input.sampleSeed' });
    expect(await refuse({ supernetId: '00000000-0000-4000-8000-000000000000' })).toMatchObject({ code: 'NOT_FOUND', field: 'input.supernetId' });
    const { trainSupernet: untrained } = await gql(`mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "untrained", searchSpaceId: $s, datasetId: $d }) { id payload } }`, {
      s: seeded.space.id,
      d: seeded.datasetId,
    });
    expect(await refuse({ supernetId: untrained.payload.supernetId })).toMatchObject({ code: 'FAILED_PRECONDITION', field: 'input.supernetId' });
    await trainer.whenStarted(untrained.id);
    trainer.finish(untrained.id);
    expect((await jobsOf(null)).length).toBe(jobsBefore + 1);
  });

  it("hides a study from a viewer of another project, and lets a project's viewer read but not start one", async () => {
    const { supernet } = await gql(`query($s: ID!) { supernet(id: $s) { rankingStudies { id } } }`, { s: supernetId });
    const studyId = supernet.rankingStudies[0].id;
    const READ = 'query($id: ID!) { rankingStudy(id: $id) { id correlations { bnMode } } }';
    const hidden = await bob.error(READ, { id: studyId });
    const missing = await bob.error(READ, { id: '00000000-0000-4000-8000-000000000000' });
    expect(hidden.extensions).toEqual({ code: 'NOT_FOUND', field: 'id' });
    expect(hidden.message.replace(studyId, 'ID')).toBe(missing.message.replace('00000000-0000-4000-8000-000000000000', 'ID'));
    expect(await bob.error(STUDY, { input: studyInput() })).toMatchObject({ extensions: { code: 'NOT_FOUND', field: 'input.supernetId' } });
    expect((await carol.gql(READ, { id: studyId })).rankingStudy.id).toBe(studyId);
    expect(await carol.error(STUDY, { input: studyInput() })).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
  });
});

/** A SLIM executor that finds two configurations, at 0.75 and 0.5 width, and succeeds. */
async function reportCandidates(job: JobSpec, ctx: JobContext): Promise<unknown> {
  const { trajectoryId } = job.payload as { trajectoryId: string };
  for (const [step, target, width] of [
    [1, 6e6, 0.75],
    [2, 3e6, 0.5],
  ] as const) {
    await ctx.report({ type: 'candidate', trajectoryId, target, channels: [...defaultChannels('mbv2-fmnist', width, FMNIST)], searchAccuracy: width, step });
  }
  return { steps: 0 };
}
