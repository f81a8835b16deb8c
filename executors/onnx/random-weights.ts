/**
 * Seeded random weights shaped for a graph, with BN statistics that keep activations in range:
 * lets benchmarks and tests run a network without a trained supernet.
 */
import type { NetworkGraph } from '../../autoslim/graph';
import { Rng } from '../rng';
import type { Tensor, WeightMap } from '../weights';

export function randomWeights(graph: NetworkGraph, seed: number): WeightMap {
  const rng = new Rng(seed >>> 0);
  const tensor = (shape: number[], low: number, high: number): Tensor => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = low + (high - low) * rng.nextFloat();
    return { shape, data };
  };
  const weights = new Map<string, Tensor>();
  for (const node of graph.nodes) {
    if (node.op === 'conv') {
      const fanIn = (node.inChannels / node.groups) * node.kernel * node.kernel;
      // He-uniform bound: keeps the activation scale roughly constant through ReLU layers.
      const bound = Math.sqrt(6 / fanIn);
      weights.set(`${node.name}.weight`, tensor([node.outChannels, node.inChannels / node.groups, node.kernel, node.kernel], -bound, bound));
      if (node.batchNorm) {
        weights.set(`${node.name}.bn.gamma`, tensor([node.outChannels], 0.5, 1.5));
        weights.set(`${node.name}.bn.beta`, tensor([node.outChannels], -0.2, 0.2));
        weights.set(`${node.name}.bn.mean`, tensor([node.outChannels], -0.2, 0.2));
        weights.set(`${node.name}.bn.var`, tensor([node.outChannels], 0.5, 2));
      }
    } else if (node.op === 'linear') {
      const bound = 1 / Math.sqrt(node.inFeatures);
      weights.set(`${node.name}.weight`, tensor([node.outFeatures, node.inFeatures], -bound, bound));
      weights.set(`${node.name}.bias`, tensor([node.outFeatures], -bound, bound));
    }
  }
  return weights;
}
