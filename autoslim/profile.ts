import { ArchitectureName } from './architecture';
import { buildGraph } from './build-graph';
import { ChannelList } from './channels';
import { GraphNode, NetworkGraph, TensorShape } from './graph';
import { NetworkOptions } from './options';

/**
 * 'reference': the official AutoSlim profiler (convs without bias, FC, average pooling; BN,
 * activations, max pooling and adds free; params without BN). 'mmcv': mmrazor's counter (also BN
 * 2×, activations 1×, any pooling 1× per element; params with BN γ, β). AUTOSLIM.md §3.
 */
export type CostConvention = 'reference' | 'mmcv';

export interface LayerCost {
  readonly name: string;
  readonly op: GraphNode['op'];
  readonly macs: number;
  readonly params: number;
}

export interface NetworkCost {
  readonly macs: number;
  readonly params: number;
  readonly perLayer: readonly LayerCost[];
}

export function profile(
  arch: ArchitectureName,
  channels: ChannelList,
  opts: NetworkOptions,
  convention: CostConvention = 'reference',
  structure?: ChannelList,
): NetworkCost {
  return profileGraph(buildGraph(arch, channels, opts, structure), convention);
}

/** Counts the widths the graph holds, i.e. the sliced tensors of a configuration. */
export function profileGraph(graph: NetworkGraph, convention: CostConvention = 'reference'): NetworkCost {
  const mmcv = convention === 'mmcv';
  let macs = 0;
  let params = 0;
  const perLayer = graph.nodes.map((node): LayerCost => {
    const cost = mmcv ? mmcvCost(node) : referenceCost(node);
    macs += cost.macs;
    params += cost.params;
    return { name: node.name, op: node.op, ...cost };
  });
  return { macs, params, perLayer };
}

interface Cost {
  readonly macs: number;
  readonly params: number;
}

const FREE: Cost = { macs: 0, params: 0 };

function referenceCost(node: GraphNode): Cost {
  switch (node.op) {
    case 'conv':
      return convCost(node.inChannels, node.outChannels, node.kernel, node.groups, node.outShape);
    case 'linear':
      return { macs: node.inFeatures * node.outFeatures, params: (node.inFeatures + 1) * node.outFeatures };
    case 'globalAvgPool':
      return { macs: elements(node.inShape), params: 0 };
    case 'add':
    case 'maxPool':
      return FREE;
  }
}

function mmcvCost(node: GraphNode): Cost {
  switch (node.op) {
    case 'conv': {
      const conv = convCost(node.inChannels, node.outChannels, node.kernel, node.groups, node.outShape);
      const out = elements(node.outShape);
      const bn = node.batchNorm ? { macs: 2 * out, params: 2 * node.outChannels } : FREE;
      return { macs: conv.macs + bn.macs + activationCost(node.activation, out), params: conv.params + bn.params };
    }
    case 'add':
      return { macs: activationCost(node.activation, elements(node.outShape)), params: 0 };
    case 'maxPool':
    case 'globalAvgPool':
      return { macs: elements(node.inShape), params: 0 };
    case 'linear':
      return referenceCost(node);
  }
}

function convCost(inChannels: number, outChannels: number, kernel: number, groups: number, out: TensorShape): Cost {
  const params = ((inChannels * outChannels) / groups) * kernel * kernel;
  return { macs: params * out.height * out.width, params };
}

function activationCost(activation: 'none' | 'relu' | 'relu6', count: number): number {
  return activation === 'none' ? 0 : count;
}

function elements(shape: TensorShape): number {
  return shape.channels * shape.height * shape.width;
}
