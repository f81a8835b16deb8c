import type { ConvNode, NetworkGraph, TensorShape } from '../../../autoslim/graph';

const shape = (channels: number, size: number): TensorShape => ({ channels, height: size, width: size });

function conv(name: string, input: string, inShape: TensorShape, out: number, kernel: number, fields: Partial<ConvNode> = {}): ConvNode {
  const stride = fields.stride ?? 1;
  const padding = (kernel - 1) / 2;
  const size = Math.floor((inShape.height + 2 * padding - kernel) / stride) + 1;
  return {
    op: 'conv',
    name,
    inputs: [input],
    inShape,
    outShape: shape(out, size),
    inChannels: inShape.channels,
    outChannels: out,
    kernel,
    stride,
    padding,
    groups: 1,
    batchNorm: true,
    activation: 'relu6',
    ...fields,
  };
}

/**
 * A small residual net on 3×8×8 inputs with 7 classes, built by hand (independently of autoslim):
 * `a` is the coupled width of stem, depthwise and projection; `b` the head width.
 */
export function tinyGraph(a: number, b: number): NetworkGraph {
  const input = shape(3, 8);
  const stem = conv('stem', 'input', input, a, 3);
  const dw = conv('dw', 'stem', stem.outShape, a, 3, { groups: a });
  const pw = conv('pw', 'dw', dw.outShape, a, 1, { activation: 'none' });
  const pooledShape = shape(a, 4);
  const head = conv('head', 'pool', pooledShape, b, 1, { activation: 'relu' });
  return {
    architecture: 'tiny',
    input,
    nodes: [
      stem,
      dw,
      pw,
      { op: 'add', name: 'res', inputs: ['stem', 'pw'], inShape: pw.outShape, outShape: pw.outShape, activation: 'none' },
      { op: 'maxPool', name: 'pool', inputs: ['res'], inShape: pw.outShape, outShape: pooledShape, kernel: 2, stride: 2, padding: 0 },
      head,
      { op: 'globalAvgPool', name: 'gap', inputs: ['head'], inShape: head.outShape, outShape: shape(b, 1) },
      { op: 'linear', name: 'fc', inputs: ['gap'], inShape: shape(b, 1), outShape: shape(7, 1), inFeatures: b, outFeatures: 7 },
    ],
  };
}

/** MACs and params of tinyGraph in the reference convention, counted by hand. */
export function tinyCost(a: number, b: number): { macs: number; params: number } {
  const stem = 3 * a * 9;
  const dw = a * 9;
  const pw = a * a;
  const head = a * b;
  const fc = b * 7;
  return {
    macs: (stem + dw + pw) * 64 + head * 16 + b * 16 + fc,
    params: stem + dw + pw + head + fc + 7,
  };
}
