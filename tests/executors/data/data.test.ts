import { Rng } from '../../../executors/rng';
import { batches, channelStatistics } from '../../../executors/data/batches';
import { loadIdxSplit, parseIdx } from '../../../executors/data/idx';
import { loadDataset } from '../../../executors/data/source';
import { searchSplit } from '../../../executors/data/split';
import { syntheticImages } from '../../../executors/data/synthetic';
import { idxBytes, writeIdxDataset } from '../../support/fixtures';

const FASHION_MNIST = '/usr/share/datasets/fashion-mnist';

describe('data', () => {
  it('loads Fashion-MNIST from the Debian package', () => {
    const train = loadIdxSplit(FASHION_MNIST, 'train');
    const test = loadIdxSplit(FASHION_MNIST, 'test');
    expect([train.count, train.channels, train.height, train.width]).toEqual([60000, 1, 28, 28]);
    expect(test.count).toBe(10000);
    const counts = new Array(10).fill(0);
    for (const label of train.labels) counts[label]++;
    expect(counts).toEqual(new Array(10).fill(6000));
  });

  it('rejects a folder without IDX files and a truncated file, naming the file', () => {
    expect(() => loadIdxSplit('/tmp', 'train')).toThrow(/missing train-images-idx3-ubyte/);
    expect(() => parseIdx(idxBytes([5, 2, 2], new Uint8Array(3)), 'images.idx')).toThrow('images.idx: header says 20 values, file holds 3');
  });

  it('splits the training set into disjoint, seeded train and search sets', () => {
    const a = searchSplit(1000, 0.1, 3);
    expect(a.searchIndices).toHaveLength(100);
    expect(a.trainIndices).toHaveLength(900);
    const all = new Set([...a.searchIndices, ...a.trainIndices]);
    expect(all.size).toBe(1000);
    expect(searchSplit(1000, 0.1, 3).digest).toBe(a.digest);
    expect(searchSplit(1000, 0.1, 4).digest).not.toBe(a.digest);
    expect(() => searchSplit(1000, 1.5, 0)).toThrow(/searchFraction/);
  });

  it('loads the three splits of a registered dataset, search carved from train', () => {
    const path = writeIdxDataset(100, 20);
    const splits = loadDataset({ format: 'IDX', uri: path, inputChannels: 1, inputHeight: 8, numClasses: 10, trainSize: 100, testSize: 20, searchFraction: 0.2, splitSeed: 1 });
    expect([splits.train.count, splits.search.count, splits.test.count]).toEqual([80, 20, 20]);
    expect(() => loadDataset({ format: 'IDX', uri: path, inputChannels: 1, inputHeight: 8, numClasses: 10, trainSize: 99, testSize: 20, searchFraction: 0.2, splitSeed: 1 })).toThrow(/99 were registered/);
  });

  it('refuses a dataset whose search split is not the one registered with it', () => {
    const path = writeIdxDataset(100, 20);
    const spec = { format: 'IDX', uri: path, inputChannels: 1, inputHeight: 8, numClasses: 10, trainSize: 100, testSize: 20, searchFraction: 0.2, splitSeed: 1 } as const;
    const registered = searchSplit(100, 0.2, 1).digest;
    expect(loadDataset({ ...spec, splitDigest: registered }).split.digest).toBe(registered);
    expect(() => loadDataset({ ...spec, splitDigest: searchSplit(100, 0.2, 2).digest })).toThrow(/does not match the one made when it was registered/);
  });

  it('makes the same synthetic images every time, in every class', () => {
    const spec = { numClasses: 4, channels: 1, size: 12, seed: 5 };
    const a = syntheticImages(spec, 'train', 64);
    expect(syntheticImages(spec, 'train', 64).pixels).toEqual(a.pixels);
    expect(syntheticImages(spec, 'test', 64).pixels).not.toEqual(a.pixels);
    expect(new Set(a.labels).size).toBe(4);
  });

  it('normalizes batches to zero mean and unit variance, and augments reproducibly', () => {
    const set = syntheticImages({ numClasses: 3, channels: 2, size: 10, seed: 1 }, 'train', 50);
    const norm = channelStatistics(set);
    const indices = Array.from({ length: 50 }, (_, i) => i);
    const [whole] = [...batches(set, indices, 50, norm)];
    const values = Array.from(whole!.images);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
    expect(mean).toBeCloseTo(0, 5);
    expect(variance).toBeCloseTo(1, 3);
    const sizes = [...batches(set, indices, 16, norm)].map((b) => b.size);
    expect(sizes).toEqual([16, 16, 16, 2]);
    const augmentation = { cropPadding: 2, horizontalFlip: true };
    const first = [...batches(set, indices, 50, norm, augmentation, new Rng(9))][0]!;
    const again = [...batches(set, indices, 50, norm, augmentation, new Rng(9))][0]!;
    expect(first.images).toEqual(again.images);
    expect(first.images).not.toEqual(whole!.images);
    expect(first.labels).toEqual(whole!.labels);
  });
});
