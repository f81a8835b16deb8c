import {
  buildGraph,
  defaultChannels,
  parseChannelList,
  profileGraph,
  type ArchitectureName,
  type ChannelList,
  type NetworkOptions,
} from '../../../autoslim';
import { exportStandalone, randomWeights, recountCost, type ModelCost } from '../../../executors/onnx';

const FMNIST: NetworkOptions = { inputSize: 28, numClasses: 10 };
const IMAGENET: NetworkOptions = { inputSize: 224, numClasses: 1000 };

/** Returns the recounted cost after checking it against the profiler. */
function expectRecountMatchesProfile(arch: ArchitectureName, config: ChannelList, opts: NetworkOptions, structure?: ChannelList): ModelCost {
  const graph = buildGraph(arch, config, opts, structure);
  const supernet = buildGraph(arch, structure ?? config, opts);
  const profiled = profileGraph(graph, 'reference');
  const recounted = recountCost(exportStandalone(graph, randomWeights(supernet, 8), 'folded'));
  expect(recounted).toEqual({ macs: profiled.macs, params: profiled.params });
  return recounted;
}

describe('recountCost on exported architectures equals the autoslim profile (reference convention)', () => {
  const supernet = defaultChannels('mbv2-fmnist', 1.5, FMNIST);

  it.each([0.35, 0.5, 0.75, 1.0, 1.5])('mbv2-fmnist %sx sliced from the 1.5x supernet', (width) => {
    expectRecountMatchesProfile('mbv2-fmnist', defaultChannels('mbv2-fmnist', width, FMNIST), FMNIST, supernet);
  });

  it.each([
    [[8, 8, 48, 16, 96, 16, 120, 24, 64, 24, 288, 24, 72, 96, 200, 96, 576, 56, 160, 10]],
    [[8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 10]],
  ])('mbv2-fmnist non-uniform config %j', (list) => {
    expectRecountMatchesProfile('mbv2-fmnist', parseChannelList('mbv2-fmnist', list, FMNIST, supernet), FMNIST, supernet);
  });

  it('mbv2-fmnist 1.0x costs 9,105,872 MACs per image', () => {
    expect(expectRecountMatchesProfile('mbv2-fmnist', defaultChannels('mbv2-fmnist', 1.0, FMNIST), FMNIST).macs).toBe(9_105_872);
  });

  it('MobileNet v2 1.0x on ImageNet: 300,836,992 MACs and 3,470,760 params', () => {
    const recounted = expectRecountMatchesProfile('mobilenet-v2', defaultChannels('mobilenet-v2', 1.0, IMAGENET), IMAGENET);
    expect(recounted).toEqual({ macs: 300_836_992, params: 3_470_760 });
  });

  it('MobileNet v2 0.35x sliced from 0.75x', () => {
    const structure = defaultChannels('mobilenet-v2', 0.75, IMAGENET);
    expectRecountMatchesProfile('mobilenet-v2', defaultChannels('mobilenet-v2', 0.35, IMAGENET), IMAGENET, structure);
  });

  it('ResNet-50 0.5x, with its max pooling and projection shortcuts', () => {
    expectRecountMatchesProfile('resnet-50', defaultChannels('resnet-50', 0.5, IMAGENET), IMAGENET);
  });
});
