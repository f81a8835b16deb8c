import fc from 'fast-check';
import { ARCHITECTURE_NAMES, architectureInfo, defaultChannels, makeDivisible, parseChannelList } from '../../autoslim';
import { PUBLISHED_LISTS } from './fixtures/published-lists';

const IMAGENET = { inputSize: 224, numClasses: 1000 };

describe('makeDivisible', () => {
  test.each([
    [64, 8, 64],
    [5.6, 8, 8], // 16 × 0.35 rounds to the nearest multiple
    [2.4, 8, 8], // never below the divisor
    [11.2, 8, 16], // 32 × 0.35: rounding down to 8 would lose more than 10%
    [99, 8, 96],
    [1920, 8, 1920],
    [7, 1, 7],
  ])('makeDivisible(%s, %s) = %s', (value, divisor, expected) => {
    expect(makeDivisible(value, divisor)).toBe(expected);
  });
});

describe('default lists of width multipliers', () => {
  test('MobileNet v2 1.0x is the official list', () => {
    expect(defaultChannels('mobilenet-v2', 1.0, IMAGENET)).toEqual([
      32, 16, 96, 24, 144, 24, 144, 32, 192, 32, 192, 32, 192, 64, 384, 64, 384, 64, 384, 64, 384, 96, 576, 96, 576, 96,
      576, 160, 960, 160, 960, 160, 960, 320, 1280, 1000,
    ]);
  });

  test('MobileNet v2 keeps its 1280 tail below 1.0x and widens it above', () => {
    expect(defaultChannels('mobilenet-v2', 0.35, IMAGENET).at(-2)).toBe(1280);
    expect(defaultChannels('mobilenet-v2', 1.5, IMAGENET).at(-2)).toBe(1920);
  });

  test('MobileNet v1 and ResNet-50 1.0x are the classic widths', () => {
    expect(defaultChannels('mobilenet-v1', 1.0, IMAGENET)).toEqual([
      32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024, 1000,
    ]);
    const stage = (width: number, mid: number, blocks: number) => [width, ...Array(blocks).fill([mid, mid, width]).flat()];
    expect(defaultChannels('resnet-50', 1.0, IMAGENET)).toEqual([
      64, ...stage(256, 64, 3), ...stage(512, 128, 4), ...stage(1024, 256, 6), ...stage(2048, 512, 3), 1000,
    ]);
  });

  test('every published AutoSlim list is a configuration of the supernet at its start width', () => {
    for (const { architecture, channels } of PUBLISHED_LISTS) {
      const supernet = defaultChannels(architecture, architectureInfo(architecture).defaultStartWidth, IMAGENET);
      expect(() => parseChannelList(architecture, channels, IMAGENET, supernet)).not.toThrow();
    }
  });

  test('the published MobileNet v2 lists keep the widened 1.5x tail of 1920', () => {
    for (const { channels } of PUBLISHED_LISTS.filter((p) => p.architecture === 'mobilenet-v2')) {
      expect(channels.at(-2)).toBe(defaultChannels('mobilenet-v2', 1.5, IMAGENET).at(-2));
    }
  });

  test('every multiplier in [0.15, 1.5] gives a valid list for every architecture', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ARCHITECTURE_NAMES), fc.double({ min: 0.15, max: 1.5, noNaN: true }), (arch, width) => {
        const info = architectureInfo(arch);
        const opts = { inputSize: info.defaultInputSize, numClasses: info.defaultNumClasses };
        const list = defaultChannels(arch, width, opts);
        expect(list).toHaveLength(info.listLength);
        expect(list.at(-1)).toBe(info.defaultNumClasses);
      }),
      { numRuns: 60 },
    );
  });

  test('a list is a plain array that survives JSON', () => {
    const list = defaultChannels('mbv2-fmnist', 1.0, { inputSize: 28, numClasses: 10 });
    expect(JSON.parse(JSON.stringify(list))).toEqual(list);
  });
});

test('architecture info', () => {
  expect(ARCHITECTURE_NAMES.map((n) => [n, architectureInfo(n).listLength, architectureInfo(n).defaultStartWidth])).toEqual([
    ['mobilenet-v1', 15, 1.5],
    ['mobilenet-v2', 36, 1.5],
    ['mnasnet', 36, 1.5],
    ['resnet-50', 54, 1.0],
    ['mbv2-fmnist', 20, 1.5],
    ['resnet-cifar', 23, 1.0],
  ]);
  expect(architectureInfo('mbv2-fmnist')).toMatchObject({ defaultInputSize: 28, inputChannels: 1, defaultNumClasses: 10 });
  expect(architectureInfo('resnet-cifar')).toMatchObject({ defaultInputSize: 32, inputChannels: 3, defaultNumClasses: 10 });
});
