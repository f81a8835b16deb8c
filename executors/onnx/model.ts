/**
 * Whole ONNX models of one configuration: the standalone export (logits) and the evaluation graph
 * (in-graph top-1, top-5 and loss against an int64 `labels` input).
 */
import type { ConvNode, NetworkGraph } from '../../autoslim/graph';
import type { WeightMap } from '../weights';
import type { BatchNormMode } from './batch-norm';
import { emitMetricsHead } from './metrics-head';
import { emitNetwork, maskInputName } from './network';
import { OnnxGraphBuilder } from './proto';

export interface ModelOptions {
  readonly batchNorm: BatchNormMode;
  /** 'logits' for a deployable model; 'metrics' for evaluation (needs the `labels` input). */
  readonly head: 'logits' | 'metrics';
  /** Adds a 0/1 channel mask input per conv (see channelMasks). */
  readonly masked: boolean;
}

export function buildModel(graph: NetworkGraph, weights: WeightMap, options: ModelOptions): Uint8Array {
  const b = new OnnxGraphBuilder();
  const { channels, height, width } = graph.input;
  const input = b.input({ name: 'input', type: 'float32', dims: ['batch', channels, height, width] });
  const labels = options.head === 'metrics' ? b.input({ name: 'labels', type: 'int64', dims: ['batch'] }) : undefined;
  const logits = emitNetwork(b, graph, weights, input, options);
  const classes = graph.nodes[graph.nodes.length - 1].outShape.channels;
  if (labels) {
    emitMetricsHead(b, logits, labels, classes);
  } else {
    b.alias(logits, 'logits');
    b.output({ name: 'logits', type: 'float32', dims: ['batch', classes] });
  }
  return b.encode(graph.architecture);
}

/** One configuration's network and weights, for buildJointMetricsModel. */
export interface JointMember {
  readonly graph: NetworkGraph;
  readonly weights: WeightMap;
}

/**
 * One evaluation graph of several configurations of a search space, side by side on the same
 * `input` and `labels`, each with its own metric head (metricOutputName numbers them in order).
 * One session then evaluates them all: a fresh session's opening and first run cost 10–60% of
 * evaluating a batch of 2,048 (bench/results/slim-bn-modes.md), and a walk's step pays that once
 * instead of once per proposal. Weights stay constants, so ORT lays every conv out as in a model
 * of its own.
 */
export function buildJointMetricsModel(members: readonly JointMember[], batchNorm: BatchNormMode): Uint8Array {
  const first = members[0];
  if (!first) throw new Error('joint model: needs at least one configuration');
  const { channels, height, width } = first.graph.input;
  const b = new OnnxGraphBuilder();
  const input = b.input({ name: 'input', type: 'float32', dims: ['batch', channels, height, width] });
  const labels = b.input({ name: 'labels', type: 'int64', dims: ['batch'] });
  members.forEach(({ graph, weights }, head) => {
    const shape = graph.input;
    if (shape.channels !== channels || shape.height !== height || shape.width !== width) {
      throw new Error(`joint model: configuration ${head} reads ${shape.channels}×${shape.height}×${shape.width} images, the first ${channels}×${height}×${width}`);
    }
    const logits = emitNetwork(b, graph, weights, input, { batchNorm, masked: false });
    emitMetricsHead(b, logits, labels, graph.nodes[graph.nodes.length - 1].outShape.channels, head, members.length);
  });
  return b.encode(first.graph.architecture);
}

/** Per-channel input normalization the network was trained with, on pixels scaled to [0, 1]. */
export interface InputNormalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/**
 * A deployable model: sliced weights, logits output, BN kept as running statistics or folded.
 * With `normalization`, the graph takes NCHW pixels in [0, 1] and normalizes them itself, so the
 * file needs nothing from slimlab to be used.
 */
export function exportStandalone(
  graph: NetworkGraph,
  weights: WeightMap,
  batchNorm: 'running' | 'folded',
  normalization?: InputNormalization,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const b = new OnnxGraphBuilder();
  const { channels, height, width } = graph.input;
  let input = b.input({ name: 'input', type: 'float32', dims: ['batch', channels, height, width] });
  if (normalization) {
    if (normalization.mean.length !== channels || normalization.std.length !== channels) {
      throw new Error(`normalization: needs ${channels} means and standard deviations, one per input channel`);
    }
    const perChannel = (hint: string, values: readonly number[]) => b.floats(hint, [1, channels, 1, 1], Float32Array.from(values));
    input = b.op('Div', [b.op('Sub', [input, perChannel('input.mean', normalization.mean)]), perChannel('input.std', normalization.std)]);
  }
  const logits = emitNetwork(b, graph, weights, input, { batchNorm, masked: false });
  b.alias(logits, 'logits');
  b.output({ name: 'logits', type: 'float32', dims: ['batch', graph.nodes[graph.nodes.length - 1].outShape.channels] });
  return b.encode(graph.architecture, metadata);
}

/** Output names of the statistics model for the BN of conv `node`. */
export function statisticsOutputs(node: string): { readonly mean: string; readonly variance: string } {
  return { mean: `${node}.batch_mean`, variance: `${node}.batch_var` };
}

/**
 * The network with batch-statistics BN that outputs every BN's batch mean and biased variance
 * (see statisticsOutputs): one forward pass yields what recalibrating running statistics needs.
 * Masked (see channelMasks), it yields those of any narrower configuration on their leading
 * channels.
 */
export function buildStatisticsModel(graph: NetworkGraph, weights: WeightMap, masked = false): Uint8Array {
  const b = new OnnxGraphBuilder();
  const { channels, height, width } = graph.input;
  const input = b.input({ name: 'input', type: 'float32', dims: ['batch', channels, height, width] });
  emitNetwork(b, graph, weights, input, {
    batchNorm: 'batch',
    masked,
    onBatchStatistics: (conv, mean, variance) => {
      const names = statisticsOutputs(conv.name);
      b.alias(mean, names.mean);
      b.alias(variance, names.variance);
      b.output({ name: names.mean, type: 'float32', dims: [conv.outChannels] });
      b.output({ name: names.variance, type: 'float32', dims: [conv.outChannels] });
    },
  });
  return b.encode(graph.architecture);
}

/**
 * The mask inputs that make a masked model of `maxGraph` compute `config`: for every conv, ones on
 * the config's first outChannels channels. Both graphs must come from one search space.
 */
export function channelMasks(maxGraph: NetworkGraph, config: NetworkGraph): Record<string, Float32Array> {
  const configConvs = new Map(config.nodes.filter(isConv).map((n) => [n.name, n]));
  const masks: Record<string, Float32Array> = {};
  for (const node of maxGraph.nodes.filter(isConv)) {
    const narrow = configConvs.get(node.name);
    if (!narrow) throw new Error(`config: conv ${node.name} of ${maxGraph.architecture} is missing from the configuration`);
    if (narrow.outChannels > node.outChannels) {
      throw new Error(`config: conv ${node.name} has ${narrow.outChannels} channels, the supernet only ${node.outChannels}`);
    }
    masks[maskInputName(node.name)] = new Float32Array(node.outChannels).fill(1, 0, narrow.outChannels);
  }
  if (configConvs.size !== Object.keys(masks).length) {
    throw new Error(`config: has convs that ${maxGraph.architecture}'s supernet graph lacks`);
  }
  return masks;
}

function isConv(node: NetworkGraph['nodes'][number]): node is ConvNode {
  return node.op === 'conv';
}
