import { ConvNode, GraphNode, NetworkGraph, TensorShape } from '../../../autoslim/graph';

export interface TinyWidths {
  readonly stem: number;
  readonly mid: number;
}

export const TINY_WIDEST: TinyWidths = { stem: 6, mid: 8 };
export const TINY_NARROWEST: TinyWidths = { stem: 2, mid: 3 };
export const TINY_CLASSES = 3;
export const TINY_SIZE = 7;

/**
 * A small MobileNet-v2-like graph on 7×7×1 inputs: dense 3×3 stem, an inverted residual block
 * (1×1 expand, depthwise 3×3, 1×1 project, add), a strided depthwise conv, pool and classifier.
 */
export function tinyGraph(w: TinyWidths): NetworkGraph {
  const input: TensorShape = { channels: 1, height: TINY_SIZE, width: TINY_SIZE };
  const nodes: GraphNode[] = [];
  const conv = (name: string, from: string, inShape: TensorShape, out: number, kernel: number, stride: number, depthwise: boolean, activation: ConvNode['activation']): TensorShape => {
    const padding = kernel >> 1;
    const size = (n: number) => Math.floor((n + 2 * padding - kernel) / stride) + 1;
    const outShape = { channels: out, height: size(inShape.height), width: size(inShape.width) };
    nodes.push({
      op: 'conv', name, inputs: [from], inShape, outShape, inChannels: inShape.channels, outChannels: out,
      kernel, stride, padding, groups: depthwise ? out : 1, batchNorm: true, activation,
    });
    return outShape;
  };
  const stem = conv('stem', 'input', input, w.stem, 3, 1, false, 'relu6');
  const expanded = conv('expand', 'stem', stem, w.mid, 1, 1, false, 'relu6');
  const dw = conv('dw', 'expand', expanded, w.mid, 3, 1, true, 'relu6');
  const projected = conv('project', 'dw', dw, w.stem, 1, 1, false, 'none');
  nodes.push({ op: 'add', name: 'residual', inputs: ['stem', 'project'], inShape: projected, outShape: projected, activation: 'none' });
  const down = conv('down', 'residual', projected, w.stem, 3, 2, true, 'relu');
  nodes.push({ op: 'globalAvgPool', name: 'pool', inputs: ['down'], inShape: down, outShape: { channels: w.stem, height: 1, width: 1 } });
  nodes.push({
    op: 'linear', name: 'fc', inputs: ['pool'], inShape: { channels: w.stem, height: 1, width: 1 },
    outShape: { channels: TINY_CLASSES, height: 1, width: 1 }, inFeatures: w.stem, outFeatures: TINY_CLASSES,
  });
  return { architecture: 'tiny', input, nodes };
}
