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

/** A deployable model: sliced weights, logits output, BN kept as running statistics or folded. */
export function exportStandalone(graph: NetworkGraph, weights: WeightMap, batchNorm: 'running' | 'folded'): Uint8Array {
  return buildModel(graph, weights, { batchNorm, head: 'logits', masked: false });
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
