/**
 * Turns a NetworkGraph of one configuration plus supernet weights (first-k sliced) into ONNX
 * operators. With masks, every conv output is 0 on the channels a 0/1 channel mask leaves out, so
 * one max-width graph evaluates any narrower configuration: masked input channels contribute
 * nothing. The mask applies after BN (it multiplies γ and β), which hides what batch statistics
 * make of an all-zero channel ((0 − 0) / sqrt(eps) · γ + β = β ≠ 0).
 */
import type { Activation, ConvNode, GraphNode, NetworkGraph } from '../../autoslim/graph';
import type { WeightMap } from '../weights';
import { batchStatisticsNorm, foldIntoConv, runningStatisticsNorm, type BatchNormMode } from './batch-norm';
import type { OnnxGraphBuilder } from './proto';
import { batchNormParams, convWeight, linearBias, linearWeight } from './slice';

export interface NetworkOptions {
  readonly batchNorm: BatchNormMode;
  readonly masked: boolean;
  /** With batchNorm 'batch': receives each BN's per-channel batch mean and biased variance tensors. */
  readonly onBatchStatistics?: (conv: ConvNode, mean: string, variance: string) => void;
}

export function maskInputName(convName: string): string {
  return `mask.${convName}`;
}

/** Emits the network reading tensor `input`; returns the name of the logits tensor. */
export function emitNetwork(
  b: OnnxGraphBuilder,
  graph: NetworkGraph,
  weights: WeightMap,
  input: string,
  options: NetworkOptions,
): string {
  const produced = new Map<string, string>([['input', input]]);
  const tensorOf = (name: string): string => {
    const tensor = produced.get(name);
    if (!tensor) throw new Error(`graph ${graph.architecture}: input ${name} is not produced before it is used`);
    return tensor;
  };
  for (const node of graph.nodes) {
    produced.set(node.name, emitNode(b, node, node.inputs.map(tensorOf), weights, options));
  }
  const last = graph.nodes[graph.nodes.length - 1];
  if (!last || last.op !== 'linear') throw new Error(`graph ${graph.architecture}: the last node must be the linear classifier`);
  return tensorOf(last.name);
}

export function emitNode(b: OnnxGraphBuilder, node: GraphNode, inputs: string[], weights: WeightMap, options: NetworkOptions): string {
  switch (node.op) {
    case 'conv':
      return emitConv(b, node, inputs[0], weights, options);
    case 'add':
      return activate(b, b.op('Add', inputs), node.activation);
    case 'maxPool':
      return b.op('MaxPool', inputs, {
        kernel_shape: [node.kernel, node.kernel],
        strides: [node.stride, node.stride],
        pads: [node.padding, node.padding, node.padding, node.padding],
      });
    case 'globalAvgPool':
      return b.op('Flatten', [b.op('GlobalAveragePool', inputs)], { axis: 1 });
    case 'linear': {
      const weight = linearWeight(weights, node);
      const bias = linearBias(weights, node);
      return b.op(
        'Gemm',
        [inputs[0], b.floats(`${node.name}.weight`, weight.shape, weight.data), b.floats(`${node.name}.bias`, bias.shape, bias.data)],
        { transB: 1 },
      );
    }
  }
}

function emitConv(b: OnnxGraphBuilder, node: ConvNode, x: string, weights: WeightMap, options: NetworkOptions): string {
  const attributes = {
    kernel_shape: [node.kernel, node.kernel],
    strides: [node.stride, node.stride],
    pads: [node.padding, node.padding, node.padding, node.padding],
    group: node.groups,
  };
  const mask = options.masked ? b.input({ name: maskInputName(node.name), type: 'float32', dims: [1, node.outChannels, 1, 1] }) : null;
  const weight = convWeight(weights, node);
  if (!node.batchNorm || options.batchNorm === 'folded') {
    let y: string;
    if (node.batchNorm) {
      const folded = foldIntoConv(weight, batchNormParams(weights, node));
      const w = b.floats(`${node.name}.weight`, folded.weight.shape, folded.weight.data);
      y = b.op('Conv', [x, w, b.floats(`${node.name}.bias`, [node.outChannels], folded.bias)], attributes);
    } else {
      y = b.op('Conv', [x, b.floats(`${node.name}.weight`, weight.shape, weight.data)], attributes);
    }
    y = activate(b, y, node.activation);
    return mask ? b.op('Mul', [y, mask]) : y;
  }
  const y = b.op('Conv', [x, b.floats(`${node.name}.weight`, weight.shape, weight.data)], attributes);
  const bn = batchNormParams(weights, node);
  const prefix = `${node.name}.bn`;
  // A BN that normalizes in the graph takes the mask into γ and β, which saves a pass over the
  // activations; every activation here maps 0 to 0.
  const channelMask = mask && b.op('Reshape', [mask, b.int64s(`${prefix}.channels`, [1], [node.outChannels])]);
  const normalized =
    options.batchNorm === 'batch'
      ? batchStatisticsNorm(
          b,
          y,
          prefix,
          bn,
          node.outShape.height * node.outShape.width,
          channelMask,
          options.onBatchStatistics && ((mean, variance) => options.onBatchStatistics!(node, mean, variance)),
        )
      : runningStatisticsNorm(b, y, prefix, bn, channelMask);
  return activate(b, normalized, node.activation);
}

function activate(b: OnnxGraphBuilder, x: string, activation: Activation): string {
  switch (activation) {
    case 'none':
      return x;
    case 'relu':
      return b.op('Relu', [x]);
    case 'relu6':
      return b.op('Clip', [x, b.scalar('clip.min', 0), b.scalar('clip.max', 6)]);
  }
}
