import { buildGraph, parseChannelList } from '../../autoslim';
import type { JobSpec } from '../../executors/contract';
import { randomWeights } from '../../executors/onnx';
import { resolveSearchSpace, type SearchSpaceSpec } from '../../executors/search-space';
import { encodeSafetensors } from '../../executors/weights';
import { ScriptedPlugin } from '../support/plugins';

/**
 * A trainer that trains nothing: it saves seeded random weights of the job's network as its
 * checkpoint, in the real trainer's file format, so that the real ONNX exporter has weights to
 * export. It reports a short loss curve, and a retraining reports a test top-1 of 50% plus its seed
 * in points.
 */
export function randomWeightsTrainer(): ScriptedPlugin {
  return new ScriptedPlugin(['TRAIN_SUPERNET', 'RETRAIN'], async (job: JobSpec, ctx) => {
    const { runId, searchSpace, channels, recipe } = job.payload as { runId: string; searchSpace: SearchSpaceSpec; channels?: number[]; recipe: { seed?: number } };
    const space = resolveSearchSpace(searchSpace);
    const network = channels ? parseChannelList(space.architecture, channels, space.options, space.structure) : space.structure;
    const weights = randomWeights(buildGraph(space.architecture, network, space.options, space.structure), 3);
    const artifact = await ctx.artifacts.put('CHECKPOINT', 'weights.safetensors', encodeSafetensors(weights, { architecture: space.architecture }));
    await ctx.report({ type: 'metrics', runId, points: [0, 1, 2].map((step) => ({ name: 'loss', step, value: 1.5 - step / 4 })) });
    await ctx.report({ type: 'checkpoint', runId, artifact, step: 2 });
    if (job.kind === 'RETRAIN') await ctx.report({ type: 'runSummary', runId, summary: { top1: 0.5 + (recipe.seed ?? 0) / 100 } });
    return {};
  });
}
