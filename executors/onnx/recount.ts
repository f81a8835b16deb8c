/**
 * Re-counts MACs and parameters from an exported model, reading only the ONNX graph: an
 * independent check that an export is the network the profiler priced. Reference convention
 * (AUTOSLIM.md §3): conv = weight elements × output pixels, no bias (folded BN biases are BN
 * parameters, which this convention leaves out); Gemm/MatMul = in × out per row, Gemm bias counted;
 * global average pooling = its input elements; everything else is free.
 */
import { onnx } from 'onnx-proto';

export interface ModelCost {
  /** Per image. */
  readonly macs: number;
  readonly params: number;
}

type Shape = readonly number[];

const SHAPE_PRESERVING = new Set(['Relu', 'Clip', 'BatchNormalization', 'Identity', 'Add', 'Mul', 'Sub', 'Div']);

export function recountCost(model: Uint8Array): ModelCost {
  const decoded = onnx.ModelProto.decode(model);
  if (!decoded.graph) throw new Error('onnx model: has no graph');
  // decode builds class instances: repeated fields are arrays and strings are set, unlike the I* views.
  const graph = decoded.graph as onnx.GraphProto;
  const shapes = new Map<string, Shape>();
  const constants = new Set<string>();
  for (const init of graph.initializer as onnx.TensorProto[]) {
    shapes.set(init.name, init.dims.map(Number));
    constants.add(init.name);
  }
  for (const input of graph.input as onnx.ValueInfoProto[]) {
    if (constants.has(input.name)) continue;
    const dims = input.type?.tensorType?.shape?.dim ?? [];
    // Cost is per image: a symbolic batch dimension counts as 1.
    shapes.set(input.name, dims.map((d) => (d.dimParam ? 1 : Number(d.dimValue))));
  }
  let macs = 0;
  let params = 0;
  const shapeOf = (name: string): Shape => {
    const shape = shapes.get(name);
    if (!shape) throw new Error(`onnx model: tensor ${name} is used before it is defined`);
    return shape;
  };
  for (const node of graph.node as onnx.NodeProto[]) {
    const inputs = node.input.map(shapeOf);
    const attrs = attributes(node);
    let out: Shape;
    switch (node.opType) {
      case 'Conv': {
        out = convOutput(inputs[0], inputs[1], attrs);
        const weightElements = product(inputs[1]);
        macs += weightElements * out[2] * out[3];
        params += weightElements;
        break;
      }
      case 'Gemm': {
        const [rows, inner] = attrs.get('transA')?.[0] ? [inputs[0][1], inputs[0][0]] : inputs[0];
        const outFeatures = attrs.get('transB')?.[0] ? inputs[1][0] : inputs[1][1];
        out = [rows, outFeatures];
        macs += rows * inner * outFeatures;
        params += product(inputs[1]) + (inputs[2] ? product(inputs[2]) : 0);
        break;
      }
      case 'MatMul': {
        const [a, w] = inputs;
        out = [...a.slice(0, -1), w[w.length - 1]];
        macs += product(out) * a[a.length - 1];
        if (constants.has(node.input[1])) params += product(w);
        break;
      }
      case 'GlobalAveragePool':
        out = [inputs[0][0], inputs[0][1], 1, 1];
        macs += product(inputs[0].slice(1));
        break;
      case 'MaxPool':
        out = poolOutput(inputs[0], attrs);
        break;
      case 'Flatten': {
        const axis = attrs.get('axis')?.[0] ?? 1;
        out = [product(inputs[0].slice(0, axis)), product(inputs[0].slice(axis))];
        break;
      }
      default:
        if (!SHAPE_PRESERVING.has(node.opType)) throw new Error(`onnx model: cannot count operator ${node.opType}`);
        out = inputs[0];
    }
    for (const output of node.output) shapes.set(output, out);
  }
  return { macs, params };
}

function attributes(node: onnx.NodeProto): Map<string, number[]> {
  return new Map((node.attribute ?? []).map((a) => [a.name ?? '', a.ints && a.ints.length > 0 ? a.ints.map(Number) : [Number(a.i ?? 0)]]));
}

function convOutput(x: Shape, w: Shape, attrs: Map<string, number[]>): Shape {
  return [x[0], w[0], ...spatialOutput(x, [w[2], w[3]], attrs)];
}

function poolOutput(x: Shape, attrs: Map<string, number[]>): Shape {
  const kernel = attrs.get('kernel_shape');
  if (!kernel) throw new Error('onnx model: MaxPool without kernel_shape');
  return [x[0], x[1], ...spatialOutput(x, kernel, attrs)];
}

function spatialOutput(x: Shape, kernel: readonly number[], attrs: Map<string, number[]>): number[] {
  const strides = attrs.get('strides') ?? [1, 1];
  const pads = attrs.get('pads') ?? [0, 0, 0, 0];
  const dilations = attrs.get('dilations') ?? [1, 1];
  return [0, 1].map((i) => Math.floor((x[2 + i] + pads[i] + pads[i + 2] - dilations[i] * (kernel[i] - 1) - 1) / strides[i]) + 1);
}

function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}
