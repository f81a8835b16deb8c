/**
 * Batch-norm recalibration with ONNX Runtime: the running statistics of one configuration, set to
 * the cumulative average of its batch statistics over calibration images, as AutoSlim does before
 * it deploys or evaluates a configuration with plain BatchNormalization (a slimmable supernet's
 * stored statistics belong to no single width).
 */
import * as ort from 'onnxruntime-node';
import type { ConvNode, NetworkGraph } from '../../autoslim/graph';
import type { WeightMap } from '../weights';
import { buildStatisticsModel, statisticsOutputs } from './model';
import { openSession, type SessionSettings } from './session';

/** NCHW images, count × channels × height × width values. */
export interface CalibrationBatch {
  readonly images: Float32Array;
  readonly count: number;
}

/**
 * `weights` with the BN mean and var of every conv of `graph` replaced by recalibrated ones: the
 * mean and the unbiased variance (as PyTorch's running statistics) of each batch, averaged over
 * the batches weighted by their image counts. Channels beyond the configuration's widths are cut
 * off, so the result holds exactly the configuration's statistics.
 */
export async function recalibrateBatchNorm(
  graph: NetworkGraph,
  weights: WeightMap,
  batches: Iterable<CalibrationBatch>,
  settings: SessionSettings,
  signal?: AbortSignal,
): Promise<WeightMap> {
  const session = await openSession(buildStatisticsModel(graph, weights), settings);
  try {
    return await recalibrateWith(session, graph, weights, batches, {}, signal);
  } finally {
    await session.release();
  }
}

/**
 * recalibrateBatchNorm with an open statistics session (buildStatisticsModel): of `config` itself,
 * or of a wider graph of its search space, masked to it by `feeds` (channelMasks).
 */
export async function recalibrateWith(
  session: ort.InferenceSession,
  config: NetworkGraph,
  weights: WeightMap,
  batches: Iterable<CalibrationBatch>,
  feeds: Readonly<Record<string, ort.Tensor>>,
  signal?: AbortSignal,
): Promise<WeightMap> {
  const { channels, height, width } = config.input;
  const perImage = channels * height * width;
  const convs = config.nodes.filter((n): n is ConvNode => n.op === 'conv' && n.batchNorm);
  const sums = new Map(convs.map((c) => [c.name, { mean: new Float64Array(c.outChannels), variance: new Float64Array(c.outChannels) }]));
  let images = 0;
  for (const batch of batches) {
    signal?.throwIfAborted();
    if (batch.count < 2) throw new Error(`calibration batch: needs at least 2 images for a variance, has ${batch.count}`);
    if (batch.images.length !== batch.count * perImage) throw new Error(`calibration batch: must hold count × ${perImage} values (NCHW)`);
    const outputs = await session.run({ ...feeds, input: new ort.Tensor('float32', batch.images, [batch.count, channels, height, width]) });
    for (const conv of convs) {
      const names = statisticsOutputs(conv.name);
      const pixels = batch.count * conv.outShape.height * conv.outShape.width;
      const unbiased = pixels / Math.max(1, pixels - 1);
      const sum = sums.get(conv.name)!;
      const mean = outputs[names.mean]!.data as Float32Array;
      const variance = outputs[names.variance]!.data as Float32Array;
      for (let c = 0; c < conv.outChannels; c++) {
        sum.mean[c] += batch.count * mean[c]!;
        sum.variance[c] += batch.count * variance[c]! * unbiased;
      }
    }
    images += batch.count;
  }
  if (images === 0) throw new Error('calibration: needs at least one batch of images');
  const out = new Map(weights);
  for (const conv of convs) {
    const sum = sums.get(conv.name)!;
    out.set(`${conv.name}.bn.mean`, { shape: [conv.outChannels], data: Float32Array.from(sum.mean, (v) => v / images) });
    out.set(`${conv.name}.bn.var`, { shape: [conv.outChannels], data: Float32Array.from(sum.variance, (v) => v / images) });
  }
  return out;
}
