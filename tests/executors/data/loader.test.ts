import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { channelStatistics } from '../../../executors/data/channel-statistics';
import { DEFAULT_TRANSFORMS, openDataset, type SplitReader } from '../../../executors/data/loader';
import { searchSplit } from '../../../executors/data/split';
import { Rng } from '../../../executors/rng';
import { batches, loadReference } from '../../support/reference-loader';
import { all, open, register, TEST_LOADER } from '../../support/streamed';

const FASHION = '/usr/share/datasets/fashion-mnist';

function writeImage(path: string, width: number, height: number, pixel: (x: number, y: number, c: number) => number): void {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) data[(y * width + x) * 4 + c] = pixel(x, y, c);
      data[(y * width + x) * 4 + 3] = 255;
    }
  }
  if (path.endsWith('.png')) {
    const png = new PNG({ width, height });
    data.copy(png.data);
    writeFileSync(path, PNG.sync.write(png));
  } else {
    writeFileSync(path, jpeg.encode({ width, height, data }, 95).data);
  }
}

/** Two classes of images of many sizes; class `a` gray, class `b` colour; every image one flat value per channel. */
function mixedFolder(perClass: number): string {
  const root = mkdtempSync(join(tmpdir(), 'slimlab-mixed-'));
  for (const split of ['train', 'test']) {
    for (const [label, name] of ['a', 'b'].entries()) {
      mkdirSync(join(root, split, name), { recursive: true });
      for (let i = 0; i < perClass; i++) {
        const width = 20 + ((i * 7) % 30);
        const height = 16 + ((i * 11) % 40);
        const value = (c: number) => (label === 0 ? 60 : [200, 120, 40][c]!);
        writeImage(join(root, split, name, `${i}.${i % 2 ? 'jpg' : 'png'}`), width, height, (_x, _y, c) => value(c));
      }
    }
  }
  return root;
}

describe('the streamed loader', () => {
  it('gives Fashion-MNIST the batches the in-memory loader gave: same seed, same order, same pixels', async () => {
    const { data, spec } = await open('IDX', FASHION, { input: { channels: 1, height: 28, width: 28 } });
    try {
      const before = loadReference(spec);
      const norm = channelStatistics(before.train);
      expect(data.normalization).toEqual(norm);
      const order = new Rng(11).permutation(before.train.count).subarray(0, 300);
      const old = [...batches(before.train, order, 128, norm, { cropPadding: 2, horizontalFlip: true }, new Rng(5))];
      const now = await all(data.train.batches(order, 128, { augment: { rng: new Rng(5) } }));
      expect(now).toEqual(old.map((b) => ({ images: b.images, labels: b.labels, size: b.size })));
      const held = Uint32Array.from({ length: 200 }, (_, i) => i * 3);
      expect(await all(data.search.batches(held, 200))).toEqual([...batches(before.search, held, 200, norm)]);
      expect(await all(data.test.batches(held, 64))).toEqual([...batches(before.test, held, 64, norm)]);
      expect(data.transforms).toMatchObject({ eval: 'as is (images are already the input size)', channels: 'gray' });
    } finally {
      await data.close();
    }
  });

  it('reads a dataset registered before manifests: the job makes its manifest, and the old split digest still holds', async () => {
    const { spec, readBlob } = await register('IDX', FASHION);
    const { manifest: _manifest, normalization, ...before } = spec;
    const legacy = { ...before, splitDigest: searchSplit(spec.trainSize, spec.searchFraction, spec.splitSeed).digest };
    const fresh = await openDataset(spec, { channels: 1, height: 28, width: 28 }, DEFAULT_TRANSFORMS, TEST_LOADER, readBlob);
    const old = await openDataset(legacy, { channels: 1, height: 28, width: 28 }, DEFAULT_TRANSFORMS, TEST_LOADER, () => Promise.reject(new Error('no manifest to read')));
    try {
      expect(old.normalization).toEqual(normalization!.channels);
      const held = Uint32Array.from({ length: 100 }, (_, i) => i * 7);
      expect(await all(old.search.batches(held, 100))).toEqual(await all(fresh.search.batches(held, 100)));
      await expect(
        openDataset({ ...legacy, splitSeed: spec.splitSeed + 1 }, { channels: 1, height: 28, width: 28 }, DEFAULT_TRANSFORMS, TEST_LOADER, readBlob),
      ).rejects.toThrow(/does not match the one made when it was registered/);
    } finally {
      await Promise.all([fresh.close(), old.close()]);
    }
  });

  it('brings images of mixed sizes and mixed gray and colour to the input, per image', async () => {
    const root = mixedFolder(6);
    const { data } = await open('IMAGE_FOLDER', root, { input: { channels: 3, height: 12, width: 12 } });
    try {
      const { mean, std } = data.normalization;
      const [batch] = await all(data.test.batches([0, 6], 2));
      const plane = 144;
      // A flat image stays flat under any crop and resize: gray 60 fills R, G and B; colour keeps each channel.
      const expected = [60, 60, 60, 200, 120, 40].map((v, k) => v / (255 * std[k % 3]!) - mean[k % 3]! / std[k % 3]!);
      const found = [0, 1, 2, 3, 4, 5].map((k) => batch!.images[k * plane + 77]!);
      found.forEach((value, k) => expect(value).toBeCloseTo(expected[k]!, 1));
      expect(Array.from(batch!.labels)).toEqual([0, 1]);
      expect(data.transforms).toMatchObject({ input: '12×12', eval: 'resize shorter side to 13, centre crop 12×12 (ratio 0.875)', channels: 'colour' });
      const epoch = await all(data.train.batches(Uint32Array.from({ length: data.train.count }, (_, i) => i), 4, { augment: { rng: new Rng(1) } }));
      expect(epoch.reduce((n, b) => n + b.size, 0)).toBe(data.train.count);
      expect(epoch.every((b) => b.images.length === b.size * 3 * plane && b.images.every(Number.isFinite))).toBe(true);
    } finally {
      await data.close();
    }
    const gray = await open('IMAGE_FOLDER', root, { input: { channels: 1, height: 8, width: 8 } });
    try {
      const [batch] = await all(gray.data.test.batches([6], 1));
      // Colour (200, 120, 40) as luma: (200·299 + 120·587 + 40·114) / 1000.
      const { mean, std } = gray.data.normalization;
      expect(batch!.images[27]!).toBeCloseTo(135.04 / (255 * std[0]!) - mean[0]! / std[0]!, 1);
    } finally {
      await gray.data.close();
    }
  });

  it('completes an epoch over more images than its cache holds, the cache never above its limit, the same batches with 1 or 2 threads', async () => {
    const root = mixedFolder(30);
    const small = { ...TEST_LOADER, cacheBytes: 40_000 };
    const epoch = async (reader: SplitReader) => all(reader.batches(Uint32Array.from({ length: reader.count }, (_, i) => i), 8, { augment: { rng: new Rng(4) } }));
    const one = await open('IMAGE_FOLDER', root, { input: { channels: 3, height: 16, width: 16 }, settings: { ...small, threads: 1 } });
    const two = await open('IMAGE_FOLDER', root, { input: { channels: 3, height: 16, width: 16 }, settings: small });
    try {
      const first = await epoch(two.data.train);
      await epoch(two.data.train);
      expect(await epoch(one.data.train)).toEqual(first);
      const stats = await two.data.stats();
      expect(stats.limitBytes).toBe(40_000);
      expect(stats.peakBytes).toBeLessThanOrEqual(stats.limitBytes);
      expect(stats.evictions).toBeGreaterThan(0);
      expect(stats.misses).toBeGreaterThan(two.data.train.count);
    } finally {
      await Promise.all([one.data.close(), two.data.close()]);
    }
  });

  it('fails on a corrupt image naming it, or skips and counts it with skipCorrupt', async () => {
    const root = mixedFolder(4);
    writeFileSync(join(root, 'test', 'b', '1.jpg'), Buffer.concat([jpeg.encode({ width: 8, height: 8, data: Buffer.alloc(256, 90) }, 90).data.subarray(0, 200), Buffer.alloc(50)]));
    const everything = Uint32Array.from({ length: 8 }, (_, i) => i);
    const strict = await open('IMAGE_FOLDER', root, { input: { channels: 3, height: 8, width: 8 } });
    try {
      const failure = await all(strict.data.test.batches(everything, 8)).catch((error: Error) => error.message);
      // Named within the dataset: the message reaches the job's error, which the project sees.
      expect(failure).toMatch(/^test\/b\/1\.jpg: /);
      expect(failure).not.toContain(root);
    } finally {
      await strict.data.close();
    }
    const lenient = await open('IMAGE_FOLDER', root, { input: { channels: 3, height: 8, width: 8 }, skipCorrupt: true });
    try {
      const [batch] = await all(lenient.data.test.batches(everything, 8));
      expect(batch!.size).toBe(7);
      expect((await lenient.data.stats()).skippedCorrupt).toBe(1);
    } finally {
      await lenient.data.close();
    }
  });
});
