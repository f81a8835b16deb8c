import { defaultChannels, parseArchitecture, parseChannelList, profile } from '../../autoslim';
import { expectAutoSlimError } from './expect-error';
import { TORCH_REFERENCE_LISTS } from './fixtures/torch-reference';

const IMAGENET = { inputSize: 224, numClasses: 1000 };
const FMNIST = { inputSize: 28, numClasses: 10 };
const mbv2 = defaultChannels('mobilenet-v2', 1.0, IMAGENET);
const with_ = (list: readonly number[], index: number, value: number) => list.map((w, i) => (i === index ? value : w));

test('unknown architecture', () => {
  expect(parseArchitecture('resnet-50')).toBe('resnet-50');
  expectAutoSlimError(() => parseArchitecture('vgg-16'), 'architecture', 'choice');
});

test('an unknown architecture is named once, with the list of known ones once', () => {
  expect(() => parseArchitecture('vgg-16')).toThrow(
    "architecture: choice: unknown architecture 'vgg-16'; the architectures are mobilenet-v1, mobilenet-v2, mnasnet, resnet-50, mbv2-fmnist, resnet-cifar",
  );
});

test('wrong list length', () => {
  expectAutoSlimError(() => parseChannelList('mobilenet-v2', mbv2.slice(1), IMAGENET), 'channels', 'length');
});

test.each([0, -8, 12.5, NaN])('width %s is not a positive integer', (width) => {
  expectAutoSlimError(() => parseChannelList('mobilenet-v2', with_(mbv2, 7, width), IMAGENET), 'channels[7]', 'positive-integer');
});

test('a width above the supernet maximum', () => {
  expectAutoSlimError(() => parseChannelList('mobilenet-v2', with_(mbv2, 7, 40), IMAGENET, mbv2), 'channels[7]', 'maximum');
});

test('a width above the absolute maximum', () => {
  expectAutoSlimError(() => parseChannelList('mobilenet-v2', with_(mbv2, 7, 100_000), IMAGENET), 'channels[7]', 'maximum');
});

test('the last entry must be the class count', () => {
  expectAutoSlimError(() => parseChannelList('mobilenet-v2', mbv2, { inputSize: 224, numClasses: 10 }), 'channels[35]', 'class-count');
});

test('two widths at one residual add break coupling in a supernet configuration', () => {
  // Blocks 1 and 2 of MobileNet v2 (outputs at indices 3 and 5) meet at block 2's residual add.
  const split = with_(mbv2, 5, 16);
  expectAutoSlimError(() => parseChannelList('mobilenet-v2', split, IMAGENET, mbv2), 'channels[5]', 'coupling');
  // Alone, the list decides its own structure: block 2 then simply has no residual.
  expect(() => parseChannelList('mobilenet-v2', split, IMAGENET)).not.toThrow();
});

test('a block without expand conv in the supernet keeps its depthwise at its input width', () => {
  const supernet = parseChannelList('mbv2-fmnist', TORCH_REFERENCE_LISTS[1].channels, FMNIST);
  // Block 1 (mid at index 2) has mid = input width 24 in this supernet.
  expectAutoSlimError(() => parseChannelList('mbv2-fmnist', with_(supernet, 2, 16), FMNIST, supernet), 'channels[2]', 'coupling');
});

test('a ResNet stage width is the output width of its blocks', () => {
  const resnet = defaultChannels('resnet-50', 1.0, IMAGENET);
  expectAutoSlimError(() => parseChannelList('resnet-50', with_(resnet, 1, 128), IMAGENET), 'channels[4]', 'coupling');
});

test('a structure list of the wrong length', () => {
  const short = defaultChannels('mobilenet-v1', 1.0, IMAGENET);
  expectAutoSlimError(() => parseChannelList('mobilenet-v2', mbv2, IMAGENET, short), 'structure', 'length');
});

describe('input size', () => {
  test('smaller than the network total stride', () => {
    const resnet = defaultChannels('resnet-50', 1.0, IMAGENET);
    expectAutoSlimError(() => profile('resnet-50', resnet, { inputSize: 28, numClasses: 1000 }), 'inputSize', 'minimum');
    const fmnist = defaultChannels('mbv2-fmnist', 1.0, FMNIST);
    expect(() => parseChannelList('mbv2-fmnist', fmnist, { inputSize: 8, numClasses: 10 })).not.toThrow();
    expectAutoSlimError(() => parseChannelList('mbv2-fmnist', fmnist, { inputSize: 7, numClasses: 10 }), 'inputSize', 'minimum');
  });
  test('not an integer, or too large', () => {
    expectAutoSlimError(() => parseChannelList('mobilenet-v2', mbv2, { inputSize: 224.5, numClasses: 1000 }), 'inputSize', 'integer');
    expectAutoSlimError(() => parseChannelList('mobilenet-v2', mbv2, { inputSize: 4096, numClasses: 1000 }), 'inputSize', 'maximum');
  });
});

test('no classes', () => {
  expectAutoSlimError(() => defaultChannels('mobilenet-v2', 1.0, { inputSize: 224, numClasses: 0 }), 'numClasses', 'minimum');
});

test.each([0.1, 1.6, NaN])('width multiplier %s is outside the range', (width) => {
  expectAutoSlimError(() => defaultChannels('mobilenet-v2', width, IMAGENET), 'width', 'range');
});
