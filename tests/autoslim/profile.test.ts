import { ArchitectureName, buildGraph, defaultChannels, parseChannelList, profile, profileGraph } from '../../autoslim';
import { PUBLISHED_LISTS } from './fixtures/published-lists';
import { TORCH_REFERENCE_DEFAULTS, TORCH_REFERENCE_LISTS } from './fixtures/torch-reference';

const IMAGENET = { inputSize: 224, numClasses: 1000 };
const FMNIST = { inputSize: 28, numClasses: 10 };

describe('AUTOSLIM.md §3 figures, reference convention (224×224, 1000 classes)', () => {
  const table: [ArchitectureName, number, number, number][] = [
    ['mobilenet-v2', 1.0, 300_836_992, 3_470_760],
    ['mobilenet-v2', 1.5, 672_926_784, 6_806_776],
    ['mobilenet-v2', 0.75, 209_132_512, 2_609_784],
    ['mobilenet-v2', 0.35, 59_348_528, 1_663_048],
    ['mobilenet-v1', 1.0, 568_790_528, 4_210_088],
    ['mobilenet-v1', 0.5, 149_522_176, 1_320_648],
    ['resnet-50', 1.0, 4_089_284_608, 25_503_912],
    ['resnet-50', 0.5, 1_052_361_728, 6_891_080],
  ];
  test.each(table)('%s %sx: %d MACs, %d params', (arch, width, macs, params) => {
    const cost = profile(arch, defaultChannels(arch, width, IMAGENET), IMAGENET);
    expect(cost.macs).toBe(macs);
    expect(cost.params).toBe(params);
  });
});

describe('AUTOSLIM.md §3 figures, mmcv convention', () => {
  test.each([
    ['mobilenet-v2', 320_299_008, 3_504_872],
    ['resnet-50', 4_121_924_096, 25_557_032],
  ] as const)('%s 1.0x: %d MACs, %d params', (arch, macs, params) => {
    const cost = profile(arch, defaultChannels(arch, 1.0, IMAGENET), IMAGENET, 'mmcv');
    expect(cost.macs).toBe(macs);
    expect(cost.params).toBe(params);
  });
});

test('MobileNet v2 1.0x breakdown: convs, depthwise convs, classifier and average pool', () => {
  const graph = buildGraph('mobilenet-v2', defaultChannels('mobilenet-v2', 1.0, IMAGENET), IMAGENET);
  const { perLayer } = profileGraph(graph);
  const sum = (names: Set<string>) => perLayer.filter((l) => names.has(l.name)).reduce((s, l) => s + l.macs, 0);
  const convs = graph.nodes.filter((n) => n.op === 'conv');
  const depthwise = convs.filter((n) => n.op === 'conv' && n.groups > 1);
  expect(sum(new Set(convs.map((n) => n.name)))).toBe(299_494_272);
  expect(sum(new Set(depthwise.map((n) => n.name)))).toBe(20_716_416);
  expect(perLayer.find((l) => l.op === 'linear')?.macs).toBe(1_280_000);
  expect(perLayer.find((l) => l.op === 'globalAvgPool')?.macs).toBe(62_720);
});

test('the per-layer breakdown adds up to the totals in both conventions', () => {
  for (const convention of ['reference', 'mmcv'] as const) {
    const cost = profile('resnet-50', defaultChannels('resnet-50', 0.5, IMAGENET), IMAGENET, convention);
    expect(cost.perLayer.reduce((s, l) => s + l.macs, 0)).toBe(cost.macs);
    expect(cost.perLayer.reduce((s, l) => s + l.params, 0)).toBe(cost.params);
  }
});

describe('published AutoSlim channel lists (official apps/autoslim_*.yml)', () => {
  test.each(PUBLISHED_LISTS.map((p) => [p.architecture, p.publishedMegaMacs, p] as const))(
    '%s at %dM MACs (published figure rounded to millions)',
    (arch, megaMacs, { channels }) => {
      const { macs } = profile(arch, parseChannelList(arch, channels, IMAGENET), IMAGENET);
      expect(Math.round(macs / 1e6)).toBe(megaMacs);
    },
  );
});

test('mmcv convention: the published MobileNet v2 lists read 220/320/530M, as mmrazor reports them', () => {
  const lists = PUBLISHED_LISTS.filter((p) => p.architecture === 'mobilenet-v2');
  const tensOfMillions = lists.map((p) => {
    const { macs } = profile('mobilenet-v2', parseChannelList('mobilenet-v2', p.channels, IMAGENET), IMAGENET, 'mmcv');
    return Math.round(macs / 1e7) * 10;
  });
  expect(tensOfMillions).toEqual([220, 320, 530]);
});

describe('mbv2-fmnist matches torch_reference.py', () => {
  test('9,105,872 MACs per image at 1.0x', () => {
    expect(profile('mbv2-fmnist', defaultChannels('mbv2-fmnist', 1.0, FMNIST), FMNIST).macs).toBe(9_105_872);
  });
  test.each(TORCH_REFERENCE_DEFAULTS.map((d) => [d.width, d] as const))('default list and MACs at %sx', (width, d) => {
    const channels = defaultChannels('mbv2-fmnist', width, FMNIST);
    expect(channels).toEqual(d.channels);
    expect(profile('mbv2-fmnist', channels, FMNIST).macs).toBe(d.macs);
  });
  test.each(TORCH_REFERENCE_LISTS.map((d, i) => [i, d] as const))('list %i, which drops expand convs where mid = input', (_, d) => {
    expect(profile('mbv2-fmnist', parseChannelList('mbv2-fmnist', d.channels, FMNIST), FMNIST).macs).toBe(d.macs);
  });
});

test('a sliced configuration is counted with the supernet structure it belongs to', () => {
  const structure = defaultChannels('mbv2-fmnist', 1.0, FMNIST);
  // Block 1 slimmed to mid = input width: alone the list drops its expand conv, in the supernet it keeps it.
  const list = structure.slice();
  list[2] = 16;
  const sliced = parseChannelList('mbv2-fmnist', list, FMNIST, structure);
  const standalone = parseChannelList('mbv2-fmnist', list, FMNIST);
  const expandMacs = 16 * 16 * 28 * 28;
  expect(profile('mbv2-fmnist', sliced, FMNIST, 'reference', structure).macs).toBe(
    profile('mbv2-fmnist', standalone, FMNIST).macs + expandMacs,
  );
});

test('conv cost scales with the input area when every stride divides the input size', () => {
  const at448 = { inputSize: 448, numClasses: 1000 };
  const channels = defaultChannels('mobilenet-v1', 1.0, IMAGENET);
  const convMacs = (opts: typeof IMAGENET) =>
    profile('mobilenet-v1', channels, opts).perLayer.filter((l) => l.op === 'conv').reduce((s, l) => s + l.macs, 0);
  expect(convMacs(at448)).toBe(4 * convMacs(IMAGENET));
});
