import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_TRANSFORMS, openDataset } from '../../../executors/data/loader';
import type { RegisteredDatasetSpec } from '../../../executors/data/source';
import { searchSplit, splitDigest } from '../../../executors/data/split';
import { syntheticImages } from '../../../executors/data/synthetic';
import { Rng } from '../../../executors/rng';
import { idxBytes, writeIdxDataset } from '../../support/fixtures';
import { all, open, register, TEST_LOADER } from '../../support/streamed';

const FASHION_MNIST = '/usr/share/datasets/fashion-mnist';

describe('data', () => {
  it('loads Fashion-MNIST from the Debian package', async () => {
    const { spec, input, data } = await open('IDX', FASHION_MNIST);
    try {
      expect([spec.trainSize, input.channels, input.height, input.width]).toEqual([60000, 1, 28, 28]);
      expect([data.train.count + data.search.count, data.test.count]).toEqual([60000, 10000]);
      const counts = new Array(10).fill(0);
      for (const label of [...data.train.labels, ...data.search.labels]) counts[label]++;
      expect(counts).toEqual(new Array(10).fill(6000));
    } finally {
      await data.close();
    }
  });

  it('rejects a folder without IDX files and a truncated file, naming the file', async () => {
    await expect(register('IDX', '/tmp')).rejects.toThrow(/missing train-images-idx3-ubyte/);
    const truncated = writeIdxDataset(5, 5, 2);
    writeFileSync(join(truncated, 't10k-images-idx3-ubyte'), idxBytes([5, 2, 2], new Uint8Array(3)));
    await expect(register('IDX', truncated)).rejects.toThrow('t10k-images-idx3-ubyte: header gives 20 values, the file is truncated at 3');
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

  it('loads the three splits of a registered dataset, search carved from train', async () => {
    const { data } = await open('IDX', writeIdxDataset(100, 20), { searchFraction: 0.2, splitSeed: 1 });
    try {
      expect([data.train.count, data.search.count, data.test.count]).toEqual([80, 20, 20]);
    } finally {
      await data.close();
    }
  });

  it('refuses a dataset whose search split is not the one registered with it', async () => {
    const { spec, input, readBlob } = await register('IDX', writeIdxDataset(100, 20), { searchFraction: 0.2, splitSeed: 1 });
    const data = await openDataset(spec, input, DEFAULT_TRANSFORMS, TEST_LOADER, readBlob);
    try {
      expect(data.split.digest).toBe(searchSplit(100, 0.2, 1).digest);
    } finally {
      await data.close();
    }
    const other = splitDigest(searchSplit(100, 0.2, 2), spec.manifest!.sha256);
    await expect(openDataset({ ...spec, splitDigest: other }, input, DEFAULT_TRANSFORMS, TEST_LOADER, readBlob)).rejects.toThrow(
      /does not match the one made when it was registered/,
    );
  });

  it('makes the same synthetic images every time, in every class', () => {
    const spec = { numClasses: 4, channels: 1, size: 12, seed: 5 };
    const a = syntheticImages(spec, 'train', 64);
    expect(syntheticImages(spec, 'train', 64).pixels).toEqual(a.pixels);
    expect(syntheticImages(spec, 'test', 64).pixels).not.toEqual(a.pixels);
    expect(new Set(a.labels).size).toBe(4);
  });

  it('normalizes batches to zero mean and unit variance, and augments reproducibly', async () => {
    // 62 images less a hold-out of 12: a training split of 50.
    const spec: RegisteredDatasetSpec = { id: 's', format: 'SYNTHETIC', uri: 'synthetic:', inputChannels: 2, inputHeight: 10, numClasses: 3, trainSize: 62, testSize: 8, searchFraction: 0.2, splitSeed: 1 };
    const noManifest = () => Promise.reject(new Error('a SYNTHETIC dataset has no manifest'));
    const data = await openDataset(spec, { channels: 2, height: 10, width: 10 }, DEFAULT_TRANSFORMS, TEST_LOADER, noManifest);
    try {
      // The normalization is the training split's own statistics, so the whole split comes out standardized.
      const indices = Array.from({ length: data.train.count }, (_, i) => i);
      const [whole] = await all(data.train.batches(indices, 50));
      const values = Array.from(whole!.images);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
      expect(mean).toBeCloseTo(0, 5);
      expect(variance).toBeCloseTo(1, 3);
      const sizes = (await all(data.train.batches(indices, 16))).map((b) => b.size);
      expect(sizes).toEqual([16, 16, 16, 2]);
      const first = (await all(data.train.batches(indices, 50, { augment: { rng: new Rng(9) } })))[0]!;
      const again = (await all(data.train.batches(indices, 50, { augment: { rng: new Rng(9) } })))[0]!;
      expect(first.images).toEqual(again.images);
      expect(first.images).not.toEqual(whole!.images);
      expect(first.labels).toEqual(whole!.labels);
    } finally {
      await data.close();
    }
  });

  it('feeds a colour synthetic set to a gray network, standardized by the gray images\' own statistics', async () => {
    // What the server lets every job do (tests/server/dataset-fit.test.ts): colour converts to gray.
    const spec: RegisteredDatasetSpec = { id: 's', format: 'SYNTHETIC', uri: 'synthetic:', inputChannels: 3, inputHeight: 10, numClasses: 3, trainSize: 62, testSize: 8, searchFraction: 0.2, splitSeed: 1 };
    const noManifest = () => Promise.reject(new Error('a SYNTHETIC dataset has no manifest'));
    const data = await openDataset(spec, { channels: 1, height: 10, width: 10 }, DEFAULT_TRANSFORMS, TEST_LOADER, noManifest);
    try {
      expect(data.normalization.mean).toHaveLength(1);
      const [whole] = await all(data.train.batches(Array.from({ length: data.train.count }, (_, i) => i), 50));
      const values = Array.from(whole!.images);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
      expect(mean).toBeCloseTo(0, 5);
      expect(variance).toBeCloseTo(1, 3);
    } finally {
      await data.close();
    }
  });
});
