import type { ExecutorPlugin, JobContext, JobSpec } from '../../executors/contract';
import { ScriptedPlugin } from '../support/plugins';
import type { TestServer } from '../support/server';

interface Space {
  maxChannels: number[];
  units: { members: number[]; choices: number[] }[];
}

/** The channel list with every unit at the given fraction of its choices (1 = widest). */
export function configAt(space: Space, fraction: number): number[] {
  const channels = [...space.maxChannels];
  for (const unit of space.units) {
    const width = unit.choices[Math.max(0, Math.ceil(fraction * unit.choices.length) - 1)]!;
    for (const position of unit.members) channels[position] = width;
  }
  return channels;
}

/**
 * A test-only executor that runs a whole search instantly: the supernet "trains" (metrics and a
 * checkpoint), slimming walks three steps and reports a candidate per target, retraining reports
 * a top-1 that grows with the candidate's width. A learning rate above 1 makes the training fail. It reads what it needs from the server it runs in,
 * which exists only after the plugin is registered, hence `serverOf`.
 */
export function scriptedSearch(serverOf: () => TestServer): ExecutorPlugin {
  return new ScriptedPlugin(['TRAIN_SUPERNET', 'SLIM', 'RETRAIN'], (job, ctx) => steps[job.kind]!(serverOf(), job, ctx), 'scripted-search');
}

type Step = (server: TestServer, job: JobSpec, ctx: JobContext) => Promise<unknown>;

const steps: Partial<Record<JobSpec['kind'], Step>> = {
  async TRAIN_SUPERNET(_server, job, ctx) {
    const { runId, recipe } = job.payload as { runId: string; recipe: { learningRate: number } };
    if (recipe.learningRate > 1) throw new Error('loss diverged to NaN');
    await ctx.report({ type: 'metrics', runId, points: [0, 1, 2].map((step) => ({ name: 'loss', step, value: 2 - step * 0.5 })) });
    await ctx.progress(0.5, 'epoch 1/2');
    const artifact = await ctx.artifacts.put('CHECKPOINT', 'supernet.ckpt', Buffer.from('weights'));
    await ctx.report({ type: 'checkpoint', runId, artifact, step: 2 });
    return { epochs: 2 };
  },

  async SLIM(server, job, ctx) {
    const { trajectoryId } = job.payload as { trajectoryId: string };
    const { trajectory } = await server.gql(
      `query($id: ID!) { trajectory(id: $id) { targets supernet { searchSpace { maxChannels units { members choices } } } } }`,
      { id: trajectoryId },
    );
    const space = trajectory.supernet.searchSpace as Space;
    const fractions = [1, 0.75, 0.5];
    for (const [index, fraction] of fractions.entries()) {
      const channels = configAt(space, fraction);
      const accuracy = 0.5 + fraction * 0.3;
      const { profile } = await server.gql(`query($c: [Int!]) { profile(architecture: "mbv2-fmnist", channels: $c) { macs params } }`, { c: channels });
      await ctx.report({
        type: 'slimmingStep',
        trajectoryId,
        step: { index, unitIndex: index === 0 ? null : 0, unitName: index === 0 ? null : 'u0', channels, macs: profile.macs, params: profile.params,
          predictedLatencyMs: null, score: accuracy, accuracy, accuracyDrop: 0.8 - accuracy, proposals: [] },
      });
      const target = index === 0 ? undefined : [...(trajectory.targets as number[])].reverse().find((t) => profile.macs <= t);
      if (target !== undefined) await ctx.report({ type: 'candidate', trajectoryId, target, channels, searchAccuracy: accuracy, step: index });
    }
    return { steps: fractions.length };
  },

  async RETRAIN(server, job, ctx) {
    const { runId, candidateId } = job.payload as { runId: string; candidateId: string };
    const { candidate } = await server.gql(`query($id: ID!) { candidate(id: $id) { macs } }`, { id: candidateId });
    await ctx.report({ type: 'runSummary', runId, summary: { top1: 0.6 + candidate.macs / 1e8 } });
    return { top1: true };
  },
};
