/**
 * First-k slicing of supernet weights: a configuration uses the leading entries of every axis
 * that carries channels (executors/weights.ts).
 */
import type { ConvNode, LinearNode, NetworkGraph } from '../../autoslim/graph';
import type { Tensor, WeightMap } from '../weights';

export interface BatchNormParams {
  readonly gamma: Float32Array;
  readonly beta: Float32Array;
  readonly mean: Float32Array;
  readonly variance: Float32Array;
}

/** Conv weight [out, in / groups, kh, kw] of the node's configuration. */
export function convWeight(weights: WeightMap, node: ConvNode): Tensor {
  const stored = lookup(weights, `${node.name}.weight`, 4);
  return sliceLeading(`${node.name}.weight`, stored, [node.outChannels, node.inChannels / node.groups, node.kernel, node.kernel]);
}

export function batchNormParams(weights: WeightMap, node: ConvNode): BatchNormParams {
  const vector = (suffix: string): Float32Array => {
    const name = `${node.name}.bn.${suffix}`;
    return sliceLeading(name, lookup(weights, name, 1), [node.outChannels]).data;
  };
  return { gamma: vector('gamma'), beta: vector('beta'), mean: vector('mean'), variance: vector('var') };
}

export function linearWeight(weights: WeightMap, node: LinearNode): Tensor {
  const name = `${node.name}.weight`;
  return sliceLeading(name, lookup(weights, name, 2), [node.outFeatures, node.inFeatures]);
}

export function linearBias(weights: WeightMap, node: LinearNode): Tensor {
  const name = `${node.name}.bias`;
  return sliceLeading(name, lookup(weights, name, 1), [node.outFeatures]);
}

/**
 * Every tensor of a configuration at its own widths, under the checkpoint's names and layouts:
 * what a fixed-width network of `graph` loads as its weights to start where the supernet is.
 */
export function configurationWeights(weights: WeightMap, graph: NetworkGraph): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const node of graph.nodes) {
    if (node.op === 'conv') {
      out.set(`${node.name}.weight`, convWeight(weights, node));
      if (!node.batchNorm) continue;
      const bn = batchNormParams(weights, node);
      const vector = (data: Float32Array): Tensor => ({ shape: [node.outChannels], data });
      out.set(`${node.name}.bn.gamma`, vector(bn.gamma));
      out.set(`${node.name}.bn.beta`, vector(bn.beta));
      out.set(`${node.name}.bn.mean`, vector(bn.mean));
      out.set(`${node.name}.bn.var`, vector(bn.variance));
    } else if (node.op === 'linear') {
      out.set(`${node.name}.weight`, linearWeight(weights, node));
      out.set(`${node.name}.bias`, linearBias(weights, node));
    }
  }
  return out;
}

function lookup(weights: WeightMap, name: string, rank: number): Tensor {
  const tensor = weights.get(name);
  if (!tensor) throw new Error(`weights: tensor ${name} is missing`);
  if (tensor.shape.length !== rank) {
    throw new Error(`weights: tensor ${name} must have rank ${rank}, has shape [${tensor.shape.join(', ')}]`);
  }
  return tensor;
}

/** The leading `dims` block of a row-major tensor; each dim must fit in the stored one. */
function sliceLeading(name: string, tensor: Tensor, dims: readonly number[]): Tensor {
  dims.forEach((d, axis) => {
    if (!Number.isInteger(d) || d < 1 || d > tensor.shape[axis]) {
      throw new Error(
        `weights: tensor ${name} axis ${axis} holds ${tensor.shape[axis]} entries, the configuration needs ${d}`,
      );
    }
  });
  if (dims.every((d, axis) => d === tensor.shape[axis])) return tensor;
  const out = new Float32Array(dims.reduce((a, b) => a * b, 1));
  copyBlock(tensor, dims, 0, 0, out, { at: 0 });
  return { shape: [...dims], data: out };
}

function copyBlock(
  tensor: Tensor,
  dims: readonly number[],
  axis: number,
  sourceOffset: number,
  out: Float32Array,
  cursor: { at: number },
): void {
  if (axis === dims.length - 1) {
    out.set(tensor.data.subarray(sourceOffset, sourceOffset + dims[axis]), cursor.at);
    cursor.at += dims[axis];
    return;
  }
  const stride = tensor.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < dims[axis]; i++) copyBlock(tensor, dims, axis + 1, sourceOffset + i * stride, out, cursor);
}
