import fc from 'fast-check';
import {
  ARCHITECTURE_NAMES,
  GraphNode,
  NetworkGraph,
  architectureInfo,
  buildGraph,
  buildUnitTable,
  defaultChannels,
  parseChannelList,
  randomConfig,
} from '../../autoslim';

const IMAGENET = { inputSize: 224, numClasses: 1000 };
const FMNIST = { inputSize: 28, numClasses: 10 };

function nodesOf(graph: NetworkGraph, op: GraphNode['op']): GraphNode[] {
  return graph.nodes.filter((n) => n.op === op);
}

/** Every node reads tensors that exist, with the shapes and widths its fields claim. */
function expectConsistent(graph: NetworkGraph): void {
  const shapes = new Map([['input', graph.input]]);
  for (const node of graph.nodes) {
    for (const input of node.inputs) expect(shapes.get(input)).toEqual(node.inShape);
    if (node.op === 'conv') {
      expect(node.inChannels).toBe(node.inShape.channels);
      expect(node.outShape.channels).toBe(node.outChannels);
      if (node.groups > 1) expect([node.inChannels, node.outChannels]).toEqual([node.groups, node.groups]);
    }
    if (node.op === 'linear') expect(node.inFeatures).toBe(node.inShape.channels);
    expect(shapes.has(node.name)).toBe(false);
    shapes.set(node.name, node.outShape);
  }
}

test('mbv2-fmnist 1.0x: the layers torch_reference.py builds', () => {
  const graph = buildGraph('mbv2-fmnist', defaultChannels('mbv2-fmnist', 1.0, FMNIST), FMNIST);
  expectConsistent(graph);
  expect(graph.input).toEqual({ channels: 1, height: 28, width: 28 });
  expect(graph.nodes[0]).toMatchObject({ name: 'stem', op: 'conv', kernel: 3, stride: 1, padding: 1, activation: 'relu6', batchNorm: true });
  // Block 0 has no expand conv and, at 16 → 16 with stride 1, a residual add.
  expect(graph.nodes.slice(1, 4).map((n) => n.name)).toEqual(['blocks.0.dw', 'blocks.0.project', 'blocks.0.add']);
  expect(nodesOf(graph, 'add').map((n) => n.name)).toEqual(['blocks.0.add', 'blocks.2.add', 'blocks.4.add', 'blocks.5.add', 'blocks.7.add']);
  expect(graph.nodes.find((n) => n.name === 'blocks.1.project')).toMatchObject({ activation: 'none' });
  expect(graph.nodes.at(-3)).toMatchObject({ name: 'tail', outShape: { channels: 320, height: 4, width: 4 } });
  expect(graph.nodes.at(-1)).toMatchObject({ name: 'classifier', op: 'linear', inFeatures: 320, outFeatures: 10 });
});

test('MobileNet v2 has its 10 residual adds; MNasNet has 5×5 depthwise convs', () => {
  const mbv2 = buildGraph('mobilenet-v2', defaultChannels('mobilenet-v2', 1.0, IMAGENET), IMAGENET);
  expect(nodesOf(mbv2, 'add')).toHaveLength(10);
  const mnasnet = buildGraph('mnasnet', defaultChannels('mnasnet', 1.0, IMAGENET), IMAGENET);
  expect(mnasnet.nodes.filter((n) => n.op === 'conv' && n.kernel === 5 && n.padding === 2)).toHaveLength(10);
});

test('ResNet-50: max-pooled stem, 16 adds with ReLU, projections on the first block of each stage, stride in the 3×3', () => {
  const graph = buildGraph('resnet-50', defaultChannels('resnet-50', 1.0, IMAGENET), IMAGENET);
  expectConsistent(graph);
  expect(graph.nodes[1]).toMatchObject({ name: 'stem.pool', op: 'maxPool', kernel: 3, stride: 2, padding: 1 });
  expect(nodesOf(graph, 'add').every((n) => n.op === 'add' && n.activation === 'relu')).toBe(true);
  expect(nodesOf(graph, 'add')).toHaveLength(16);
  expect(graph.nodes.filter((n) => n.name.endsWith('.shortcut')).map((n) => n.name)).toEqual([
    'stages.0.0.shortcut',
    'stages.1.0.shortcut',
    'stages.2.0.shortcut',
    'stages.3.0.shortcut',
  ]);
  expect(graph.nodes.find((n) => n.name === 'stages.1.0.conv2')).toMatchObject({ stride: 2, kernel: 3 });
  expect(graph.nodes.find((n) => n.name === 'pool')?.inShape).toEqual({ channels: 2048, height: 7, width: 7 });
});

test('resnet-cifar: identity shortcuts in the first stage, projections entering stages 2 and 3', () => {
  const opts = { inputSize: 32, numClasses: 10 };
  const graph = buildGraph('resnet-cifar', defaultChannels('resnet-cifar', 1.0, opts), opts);
  expectConsistent(graph);
  expect(nodesOf(graph, 'add')).toHaveLength(9);
  expect(graph.nodes.filter((n) => n.name.endsWith('.shortcut')).map((n) => n.name)).toEqual(['stages.1.0.shortcut', 'stages.2.0.shortcut']);
  expect(graph.nodes.find((n) => n.name === 'pool')?.inShape).toEqual({ channels: 64, height: 8, width: 8 });
});

test('a sliced configuration keeps the supernet structure; alone, its list decides', () => {
  const supernet = defaultChannels('mbv2-fmnist', 1.0, FMNIST);
  const list = supernet.map((w, i) => (i === 2 ? 16 : w)); // block 1: mid = input width
  const sliced = buildGraph('mbv2-fmnist', parseChannelList('mbv2-fmnist', list, FMNIST, supernet), FMNIST, supernet);
  const alone = buildGraph('mbv2-fmnist', parseChannelList('mbv2-fmnist', list, FMNIST), FMNIST);
  expect(sliced.nodes.find((n) => n.name === 'blocks.1.expand')).toMatchObject({ inChannels: 16, outChannels: 16 });
  expect(alone.nodes.find((n) => n.name === 'blocks.1.expand')).toBeUndefined();
});

describe('configurations of one search space', () => {
  test.each(ARCHITECTURE_NAMES)('%s: same node names and kinds as the supernet, widths within it', (arch) => {
    const info = architectureInfo(arch);
    const opts = { inputSize: info.defaultInputSize, numClasses: info.defaultNumClasses };
    const supernet = defaultChannels(arch, info.defaultStartWidth, opts);
    const table = buildUnitTable(arch, supernet, opts);
    const full = buildGraph(arch, supernet, opts, supernet);
    fc.assert(
      fc.property(fc.infiniteStream(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })), (stream) => {
        const config = randomConfig(table, () => stream.next().value);
        const graph = buildGraph(arch, config, opts, supernet);
        expectConsistent(graph);
        expect(graph.nodes.map((n) => [n.name, n.op])).toEqual(full.nodes.map((n) => [n.name, n.op]));
        graph.nodes.forEach((node, i) => {
          const widest = full.nodes[i];
          if (node.op === 'conv' && widest.op === 'conv') {
            expect(node.outChannels).toBeLessThanOrEqual(widest.outChannels);
            expect(node.inChannels / node.groups).toBeLessThanOrEqual(widest.inChannels / widest.groups);
          }
        });
      }),
      { numRuns: 15 },
    );
  });
});
