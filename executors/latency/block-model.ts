/**
 * ONNX models that time one fused block in the context it has inside a network.
 *
 * Timed alone, a block pays for what the network does not: ORT converts its input to the NCHWc
 * layout and its output back, and copies the output into JS. So both the block's model and its
 * baseline end every 4-d tensor in a 1×1 max pool with the tensor's full extent as stride: a
 * layout-preserving kernel that touches one pixel per channel, after which only C values are
 * converted and copied. The baseline ends each input so; the block's model runs the block on its
 * inputs and ends its output. The difference of the two is the block's kernels and their dispatch:
 * input conversion and per-run overhead cancel. (Ending the inputs in the block's model as well
 * would balance the endings, but a tensor read by two kernels costs ORT far more than one ending.)
 */
import type { NetworkGraph } from '../../autoslim/graph';
import { emitNode } from '../onnx/network';
import { OnnxGraphBuilder } from '../onnx/proto';
import { randomWeights } from '../onnx/random-weights';
import type { FusedBlock } from './blocks';

/** The block on its inputs, its output ended. */
export function blockModel(block: FusedBlock): Uint8Array {
  const b = new OnnxGraphBuilder();
  const produced = new Map(block.inputs.map((i) => [i.tensor, b.input({ name: i.tensor, type: 'float32', dims: batched(i.dims) })]));
  const graph: NetworkGraph = { architecture: 'block', input: block.nodes[0].inShape, nodes: block.nodes };
  const weights = randomWeights(graph, 1);
  let last = '';
  for (const node of block.nodes) {
    last = emitNode(b, node, node.inputs.map((t) => produced.get(t)!), weights, { batchNorm: 'folded', masked: false });
    produced.set(node.name, last);
  }
  terminate(b, last, block.outputDims, 'out');
  return b.encode(`block ${block.name}`);
}

/** The block's inputs, each ended and returned, with nothing in between. */
export function baselineModel(block: FusedBlock): Uint8Array {
  const b = new OnnxGraphBuilder();
  block.inputs.forEach((input, i) => terminate(b, b.input({ name: input.tensor, type: 'float32', dims: batched(input.dims) }), input.dims, `in${i}`));
  return b.encode(`baseline ${block.name}`);
}

function terminate(b: OnnxGraphBuilder, tensor: string, dims: readonly number[], output: string): void {
  if (dims.length === 4) {
    b.alias(b.op('MaxPool', [tensor], { kernel_shape: [1, 1], strides: [dims[2], dims[3]] }), output);
    b.output({ name: output, type: 'float32', dims: ['batch', dims[1], 1, 1] });
  } else {
    b.alias(tensor, output);
    b.output({ name: output, type: 'float32', dims: ['batch', ...dims.slice(1)] });
  }
}

function batched(dims: readonly number[]): (number | string)[] {
  return ['batch', ...dims.slice(1)];
}

/** A model that only takes the network's input and ends it: the per-inference cost of any model. */
export function emptyModel(inputDims: readonly number[]): Uint8Array {
  const b = new OnnxGraphBuilder();
  terminate(b, b.input({ name: 'input', type: 'float32', dims: batched(inputDims) }), inputDims, 'out');
  return b.encode('empty');
}
