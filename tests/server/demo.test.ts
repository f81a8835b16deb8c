import { buildGraph, profile, widestUniformWithin } from '../../autoslim';
import type { JobContext, JobSpec } from '../../executors/contract';
import { randomWeights } from '../../executors/onnx';
import { resolveSearchSpace, type SearchSpaceSpec } from '../../executors/search-space';
import { encodeSafetensors } from '../../executors/weights';
import { DemoPipeline, DemoStage } from '../../server/entities';
import { DEMO } from '../../server/services/demo-service';
import { DATABASES } from '../support/databases';
import { ScriptedPlugin } from '../support/plugins';
import { TestServer, eventually } from '../support/server';

/** Trains nothing: a supernet saves seeded random weights as its checkpoint; a retraining reports a top-1. */
const trainer = new ScriptedPlugin(['TRAIN_SUPERNET', 'RETRAIN'], async (job: JobSpec, ctx: JobContext) => {
  const { runId, searchSpace } = job.payload as { runId: string; searchSpace: SearchSpaceSpec };
  if (job.kind === 'RETRAIN') {
    await ctx.report({ type: 'runSummary', runId, summary: { top1: 0.5, top5: 0.9 } });
    return { top1: 0.5 };
  }
  const space = resolveSearchSpace(searchSpace);
  const weights = randomWeights(buildGraph(space.architecture, space.structure, space.options, space.structure), 3);
  const artifact = await ctx.artifacts.put('CHECKPOINT', 'weights.safetensors', encodeSafetensors(weights, { architecture: space.architecture }));
  await ctx.report({ type: 'checkpoint', runId, artifact, step: 1 });
  return {};
});

/** Walks nothing: reports, for each budget, the widest uniform configuration within it as the pick. */
const slimmer = new ScriptedPlugin(
  ['SLIM'],
  async (job: JobSpec, ctx: JobContext) => {
    const { trajectoryId, targets, searchSpace } = job.payload as { trajectoryId: string; targets: number[]; searchSpace: SearchSpaceSpec };
    const space = resolveSearchSpace(searchSpace);
    const picks = widestUniformWithin(space.architecture, space.options, space.structure, 'macs', DEMO.space.maxWidth, targets);
    const configs = [space.structure, ...picks.map((p) => p!.channels)];
    for (const [index, channels] of configs.entries()) {
      const cost = profile(space.architecture, channels, space.options, 'reference', space.structure);
      const step = {
        index,
        unitIndex: index === 0 ? null : 0,
        unitName: index === 0 ? null : space.table.units[0]!.name,
        channels: [...channels],
        macs: cost.macs,
        params: cost.params,
        predictedLatencyMs: null,
        score: 0.5,
        accuracy: 0.5,
        accuracyDrop: 0,
        proposals: [],
      };
      await ctx.report({ type: 'slimmingStep', trajectoryId, step });
      if (index > 0) await ctx.report({ type: 'candidate', trajectoryId, target: targets[index - 1]!, channels: [...channels], searchAccuracy: 0.5, step: index });
    }
    return { steps: configs.length };
  },
  'scripted-slim',
);

/** Scores every configuration the same, as an EVALUATE result must: once per config and BN mode. */
const scorer = new ScriptedPlugin(
  ['EVALUATE'],
  async (job: JobSpec) => {
    const { configs, bnModes } = job.payload as { configs: { key: string }[]; bnModes: string[] };
    return { results: configs.flatMap(({ key }) => bnModes.map((bnMode) => ({ key, bnMode, top1: 0.4, loss: 1.2, images: 32 }))), provider: 'cpu', evalSeconds: 0 };
  },
  'scripted-evaluate',
);

describe.each(DATABASES)('the one-click demo on %s', (kind) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await TestServer.start(kind, [trainer, slimmer, scorer]);
  });

  afterAll(async () => {
    await server.stop();
  });

  it('creates a project and chains supernet training, slimming, matched baselines and retraining to the end', async () => {
    const { startDemo: project } = await server.gql(`mutation { startDemo { id name datasets { format trainSize } searchSpaces { architecture inputSize } } }`);
    expect(project).toMatchObject({
      name: 'demo',
      datasets: [{ format: 'SYNTHETIC', trainSize: DEMO.images.trainSize }],
      searchSpaces: [{ architecture: DEMO.space.architecture, inputSize: DEMO.space.inputSize }],
    });
    const stage = async () => (await server.server.orm.em.fork().findOneOrFail(DemoPipeline, { project: project.id })).stage;
    await eventually(async () => ((await stage()) === DemoStage.DONE ? true : undefined), 60_000);

    const { jobs } = await server.gql(`query($p: ID!) { jobs(filter: { projectId: $p }) { kind state } }`, { p: project.id });
    const byKind = (k: string) => jobs.filter((j: { kind: string }) => j.kind === k).map((j: { state: string }) => j.state);
    expect(byKind('TRAIN_SUPERNET')).toEqual(['SUCCEEDED']);
    expect(byKind('SLIM')).toEqual(['SUCCEEDED']);
    expect(byKind('RETRAIN')).toEqual(Array(2 * DEMO.budgets.length).fill('SUCCEEDED'));
    expect(byKind('EVALUATE')).toEqual(['SUCCEEDED']);
    const { candidates } = await server.gql(`query($p: ID!) { candidates(filter: { projectId: $p }) { edges { node { source retrainedTop1 { estimate } } } } }`, { p: project.id });
    const nodes = candidates.edges.map((e: { node: { source: string; retrainedTop1: unknown } }) => e.node);
    expect(nodes.map((c: { source: string }) => c.source).sort()).toEqual(['AUTOSLIM', 'AUTOSLIM', 'UNIFORM', 'UNIFORM']);
    for (const candidate of nodes) expect(candidate.retrainedTop1).toEqual({ estimate: 0.5 });
  });

  it('names a second demo apart from the first', async () => {
    const { startDemo } = await server.gql(`mutation { startDemo { name } }`);
    expect(startDemo.name).toBe('demo-2');
  });
});
