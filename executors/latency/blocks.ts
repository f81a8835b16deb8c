/**
 * A network as the runtime executes it: fused blocks (nn-Meter's kernels). ORT runs a conv with
 * its folded batch norm and activation as one kernel, and on the CPU also folds a residual add
 * into the conv that feeds it when that conv has no activation (the project conv of an
 * inverted-residual block); every other node is a block of its own.
 */
import { createHash } from 'node:crypto';
import type { GraphNode, NetworkGraph, TensorShape } from '../../autoslim/graph';
import type { InputSpec } from './timed-session';

export interface FusedBlock {
  /** The name of its first node: stable across the configurations of a search space. */
  readonly name: string;
  readonly nodes: readonly GraphNode[];
  /** Tensors it reads from outside itself, main input first, each with its shape at batch 1. */
  readonly inputs: readonly { readonly tensor: string; readonly dims: readonly number[] }[];
  readonly outputDims: readonly number[];
}

export function fusedBlocks(graph: NetworkGraph): FusedBlock[] {
  const producer = new Map(graph.nodes.map((n) => [n.name, n]));
  const consumers = new Map<string, GraphNode[]>();
  for (const node of graph.nodes) for (const input of node.inputs) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  const dimsOf = (tensor: string): number[] => (tensor === 'input' ? nchw(graph.input) : outputDims(producer.get(tensor)!));

  const absorbed = new Set<string>();
  const blocks: FusedBlock[] = [];
  for (const node of graph.nodes) {
    if (absorbed.has(node.name)) continue;
    const users = consumers.get(node.name) ?? [];
    const nodes = node.op === 'conv' && node.activation === 'none' && users.length === 1 && users[0].op === 'add' ? [node, users[0]] : [node];
    nodes.slice(1).forEach((n) => absorbed.add(n.name));
    const inside = new Set(nodes.map((n) => n.name));
    const inputs = [...new Set(nodes.flatMap((n) => n.inputs))].filter((t) => !inside.has(t)).map((tensor) => ({ tensor, dims: dimsOf(tensor) }));
    blocks.push({ name: node.name, nodes, inputs, outputDims: outputDims(nodes[nodes.length - 1]) });
  }
  return blocks;
}

/** What fixes a block's latency, hashed: its operators with their shapes and attributes, not its name. */
export function blockSignature(block: FusedBlock): string {
  const shapes = block.nodes.map((n) => {
    const { name: _name, inputs: _inputs, ...shape } = n;
    return shape;
  });
  return createHash('sha256').update(JSON.stringify(shapes)).digest('hex').slice(0, 32);
}

/**
 * ONNX Runtime runs a conv in its blocked NCHWc layout only when its channels are a multiple of the
 * block (16 floats with AVX-512, 8 with AVX2), and otherwise in plain NCHW with layout conversions
 * around it: a depthwise conv of 72 channels took 2–3× one of 64 or 96 at 56×56 here. Latency is
 * nearly linear in width within each kind of width and jumps between them, so a grid measures both
 * kinds and interpolates each among its own. 16 covers both block sizes.
 */
export const LAYOUT_BLOCK = 16;

/**
 * Whether every channel count of the node is a multiple of LAYOUT_BLOCK, the image's excepted: then
 * ORT runs it in NCHWc without converting anything, alone or in a network. Otherwise, alone, it
 * converts around itself; in a network ORT 1.30 pads the channels and stays in NCHWc, converting
 * only where a conv reads fewer channels than the block (isolatedConversions, and the profile there).
 */
export function runsBlocked(node: GraphNode): boolean {
  return node.op !== 'linear' && node.outShape.channels % LAYOUT_BLOCK === 0 && (node.inputs.includes('input') || node.inShape.channels % LAYOUT_BLOCK === 0);
}

/**
 * Values ORT converts between layouts in a network: the elements of every tensor whose producer
 * and consumer run in different layouts (runsBlocked). A block timed alone never pays for these:
 * its neighbours are not there.
 */
export function layoutConversions(graph: NetworkGraph): number {
  const producer = new Map(graph.nodes.map((n) => [n.name, n]));
  let elements = 0;
  for (const node of graph.nodes) {
    for (const input of node.inputs) {
      const from = producer.get(input);
      if (from && runsBlocked(from) !== runsBlocked(node)) elements += from.outShape.channels * from.outShape.height * from.outShape.width;
    }
  }
  return elements;
}

/**
 * Values a block timed alone (block-model.ts) converts between layouts that it mostly does not in
 * the network. ORT's profiler on MobileNetV2 at 224×224 (ORT 1.30, AVX-512): inside the network
 * it runs every conv in NCHWc, channels padded to the block, with a handful of conversions; timed
 * alone, a block whose output channels are not a multiple of LAYOUT_BLOCK converts its whole
 * output back for the ending pool (146 µs of a 24-channel 112×112 depthwise conv's 600), and one
 * whose input channels are not (and exceed the block: a conv reads narrower inputs in NCHW as
 * they are) converts its whole input, which the baseline's pool, run in NCHW, does not.
 */
export function isolatedConversions(graph: NetworkGraph): number {
  let elements = 0;
  for (const block of fusedBlocks(graph)) {
    const [main] = block.inputs;
    const converted = (dims: readonly number[]) => dims.length === 4 && dims[1] % LAYOUT_BLOCK !== 0;
    if (main.tensor !== 'input' && converted(main.dims) && main.dims[1] > LAYOUT_BLOCK) elements += main.dims[1] * main.dims[2] * main.dims[3];
    if (converted(block.outputDims)) elements += block.outputDims[1] * block.outputDims[2] * block.outputDims[3];
  }
  return elements;
}

export function blockInputs(block: FusedBlock, batch: number): InputSpec[] {
  return block.inputs.map((i) => ({ name: i.tensor, dims: [batch, ...i.dims.slice(1)] }));
}

/** Global average pooling flattens to a vector, and so does the classifier's output. */
function outputDims(node: GraphNode): number[] {
  return node.op === 'globalAvgPool' || node.op === 'linear' ? [1, node.outShape.channels] : nchw(node.outShape);
}

function nchw(shape: TensorShape): number[] {
  return [1, shape.channels, shape.height, shape.width];
}
