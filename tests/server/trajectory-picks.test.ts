import { defaultChannels, profile } from '../../autoslim';
import type { JobContext, JobSpec } from '../../executors/contract';
import { DATABASES } from '../support/databases';
import { seedProject } from '../support/fixtures';
import { ScriptedPlugin } from '../support/plugins';
import { TestServer, eventually } from '../support/server';

const FMNIST = { inputSize: 28, numClasses: 10 };
/** The scripted walk's steps: step i reaches every unit at WIDTHS[i] of its widest. */
const WIDTHS = [1, 0.75, 0.5, 0.35] as const;
const channelsAt = (width: number) => [...defaultChannels('mbv2-fmnist', width, FMNIST)];
const macsAt = (width: number) => profile('mbv2-fmnist', defaultChannels('mbv2-fmnist', width, FMNIST), FMNIST).macs;
/** What a walk scores a width at: the two BN modes score it differently. */
const accuracyAt = (width: number, bnMode: string) => (bnMode === 'RECALIBRATED' ? 0.6 : 0.7) + width / 5;

const PICKS = `query($t: ID!) { trajectory(id: $t) {
  picks { target searchAccuracy step candidate { id target searchAccuracy trajectory { id } } }
  candidates { id } } }`;

interface Pick {
  target: number;
  searchAccuracy: number;
  step: number | null;
  candidate: { id: string; target: number; searchAccuracy: number; trajectory: { id: string } };
}

describe.each(DATABASES)('trajectory picks on %s', (kind) => {
  let server: TestServer;
  let seeded: Awaited<ReturnType<typeof seedProject>>;
  let supernetA: string;
  let supernetB: string;

  const trainer = new ScriptedPlugin(['TRAIN_SUPERNET']);
  const slimmer = new ScriptedPlugin(['SLIM'], walk, 'scripted-slim');

  async function trainedSupernet(name: string): Promise<string> {
    const { trainSupernet: job } = await server.gql(
      `mutation($s: ID!, $d: ID!, $n: String!) { trainSupernet(input: { name: $n, searchSpaceId: $s, datasetId: $d, recipe: { epochs: 1 } }) { id payload } }`,
      { s: seeded.space.id, d: seeded.datasetId, n: name },
    );
    const ctx = await trainer.whenStarted(job.id);
    const artifact = await ctx.artifacts.put('CHECKPOINT', `${name}.safetensors`, Buffer.from(`weights of ${name}`));
    await ctx.report({ type: 'checkpoint', runId: job.payload.runId, artifact, step: 1 });
    trainer.finish(job.id);
    return job.payload.supernetId;
  }

  /** A finished trajectory of `supernetId`; answers its id. */
  async function slim(supernetId: string, targets: number[], bnMode = 'BATCH_STATS'): Promise<string> {
    const { startSlimming: job } = await server.gql(
      `mutation($s: ID!, $t: [Float!]!, $b: BnMode!) { startSlimming(input: { supernetId: $s, targets: $t, evalBatchSize: 32, bnMode: $b, calibrationImages: 64 }) { id subjectId } }`,
      { s: supernetId, t: targets, b: bnMode },
    );
    await eventually(async () => {
      const { job: state } = await server.gql(`query($id: ID!) { job(id: $id) { state error } }`, { id: job.id });
      if (state.state === 'FAILED') throw new Error(state.error);
      return state.state === 'SUCCEEDED' ? true : undefined;
    });
    return job.subjectId;
  }

  const picksOf = async (trajectoryId: string) => (await server.gql(PICKS, { t: trajectoryId })).trajectory as { picks: Pick[]; candidates: { id: string }[] };

  beforeAll(async () => {
    server = await TestServer.start(kind, [trainer, slimmer]);
    seeded = await seedProject(server, 'picks');
    supernetA = await trainedSupernet('supernet-a');
    supernetB = await trainedSupernet('supernet-b');
  });

  afterAll(() => server.stop());

  it('lists a configuration in every trajectory that picked it, each with its own target, and keeps its first finder on the candidate', async () => {
    const [m75, m50] = [macsAt(0.75), macsAt(0.5)];
    const first = await slim(supernetA, [m75, m50]);
    const second = await slim(supernetA, [m75 + 1000, m50 + 1000], 'RECALIBRATED');

    const own = await picksOf(first);
    const other = await picksOf(second);
    // Each report came twice, as from a resumed job: one pick per target all the same.
    expect(other.picks.map(({ candidate, ...pick }) => ({ ...pick, candidate: candidate.id }))).toEqual([
      { target: m75 + 1000, searchAccuracy: accuracyAt(0.75, 'RECALIBRATED'), step: 1, candidate: own.picks[0]!.candidate.id },
      { target: m50 + 1000, searchAccuracy: accuracyAt(0.5, 'RECALIBRATED'), step: 2, candidate: own.picks[1]!.candidate.id },
    ]);
    // The candidate stays the first trajectory's: its target and score are the first walk's.
    for (const [i, width] of [0.75, 0.5].entries()) {
      expect(other.picks[i]!.candidate).toMatchObject({ target: own.picks[i]!.target, searchAccuracy: accuracyAt(width, 'BATCH_STATS'), trajectory: { id: first } });
    }
    expect(other.candidates.map((c) => c.id)).toEqual(own.candidates.map((c) => c.id));

    const { candidates } = await server.gql(
      `query($t: ID!) { candidates(filter: { trajectoryId: $t, source: AUTOSLIM }, orderBy: { field: MACS, direction: DESC }) { totalCount edges { node { id } } } }`,
      { t: second },
    );
    expect(candidates.totalCount).toBe(2);
    expect(candidates.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(other.picks.map((p) => p.candidate.id));
    const { candidates: all } = await server.gql(`query($s: ID!) { candidates(filter: { searchSpaceId: $s, source: AUTOSLIM }) { totalCount } }`, { s: seeded.space.id });
    expect(all.totalCount).toBe(2);
  });

  it("pages through a trajectory's candidates that another trajectory found first", async () => {
    const second = await slim(supernetA, [macsAt(0.75) + 3000, macsAt(0.5) + 3000, macsAt(0.35) + 3000]);
    const page = (after: string | null) =>
      server.gql(
        `query($t: ID!, $a: String) { candidates(filter: { trajectoryId: $t }, first: 2, after: $a, orderBy: { field: MACS, direction: DESC }) {
          totalCount pageInfo { hasNextPage endCursor } edges { node { macs } } } }`,
        { t: second, a: after },
      );
    const { candidates: one } = await page(null);
    expect(one.totalCount).toBe(3);
    expect(one.pageInfo.hasNextPage).toBe(true);
    const { candidates: two } = await page(one.pageInfo.endCursor);
    expect(two.pageInfo.hasNextPage).toBe(false);
    expect([...one.edges, ...two.edges].map((e: { node: { macs: number } }) => e.node.macs)).toEqual([0.75, 0.5, 0.35].map(macsAt));
  });

  it('gives a step that crosses two targets a pick for each, and lists its candidate once', async () => {
    const m75 = macsAt(0.75);
    const trajectory = await slim(supernetA, [m75 + 2000, m75 + 500]);
    const { picks, candidates } = await picksOf(trajectory);
    expect(picks.map((p) => [p.target, p.step])).toEqual([
      [m75 + 2000, 1],
      [m75 + 500, 1],
    ]);
    expect(new Set(picks.map((p) => p.candidate.id)).size).toBe(1);
    expect(candidates).toEqual([{ id: picks[0]!.candidate.id }]);
  });

  it("studies a supernet's ranking with the configurations its trajectories picked, also those another supernet's found first", async () => {
    const trajectory = await slim(supernetB, [macsAt(0.75) + 4000, macsAt(0.5) + 4000]);
    const { picks } = await picksOf(trajectory);
    expect(picks.every((p) => p.candidate.trajectory.id !== trajectory)).toBe(true);
    const { studyRanking: study } = await server.gql(
      `mutation($s: ID!) { studyRanking(input: { supernetId: $s, seeds: [0], recipe: { epochs: 1 }, sampledConfigs: 0, evalBatchSize: 32, calibrationImages: 256 }) {
        configs { origin candidate { id } } } }`,
      { s: supernetB },
    );
    const autoslim = study.configs.filter((c: { origin: string }) => c.origin === 'AUTOSLIM').map((c: { candidate: { id: string } }) => c.candidate.id);
    expect(autoslim.sort()).toEqual(picks.map((p) => p.candidate.id).sort());
  });

  it('refuses a candidate report whose step is not a step index', async () => {
    const { startSlimming: job } = await server.gql(
      `mutation($s: ID!, $t: [Float!]!) { startSlimming(input: { supernetId: $s, targets: $t, evalBatchSize: 32 }) { id subjectId } }`,
      { s: supernetA, t: [macsAt(0.5) + 5000] },
    );
    const ctx = await slimmer.whenStarted(job.id);
    const report = { type: 'candidate', trajectoryId: job.subjectId, target: macsAt(0.5) + 5000, channels: channelsAt(0.5), searchAccuracy: 0.5 } as const;
    await expect(ctx.report({ ...report, step: -1 })).rejects.toThrow(/step must be a non-negative integer/);
    expect((await picksOf(job.subjectId)).picks).toEqual([]);
    slimmer.finish(job.id);
  });

  /**
   * The scripted SLIM job: steps down WIDTHS and, for each target, reports the first width whose
   * MACs fit, twice, as a job resumed after a crash may; it waits for the test instead when its
   * targets are all in the last test's range.
   */
  async function walk(job: JobSpec, ctx: JobContext): Promise<unknown> {
    const { trajectoryId, targets, bnMode } = job.payload as { trajectoryId: string; targets: number[]; bnMode: string };
    if (targets.every((t) => t === macsAt(0.5) + 5000)) return slimmer.awaitOutcome(job, ctx);
    for (const target of targets) {
      const step = WIDTHS.findIndex((w) => macsAt(w) <= target);
      const report = { type: 'candidate', trajectoryId, target, channels: channelsAt(WIDTHS[step]!), searchAccuracy: accuracyAt(WIDTHS[step]!, bnMode), step } as const;
      await ctx.report(report);
      await ctx.report(report);
    }
    return {};
  }
});
