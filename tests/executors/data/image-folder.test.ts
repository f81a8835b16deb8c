import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describeImageFolder } from '../../../executors/data/image-folder-inspect';
import { DEFAULT_TRANSFORMS, openDataset } from '../../../executors/data/loader';
import { TestServer } from '../../support/server';
import { loadSplits, register, TEST_LIMITS as LIMITS, TEST_LOADER } from '../../support/streamed';

/** RGBA pixels where image `index` of class `label` has every pixel at a known value. */
function rgba(size: number, value: (channel: number) => number): Buffer {
  const data = Buffer.alloc(size * size * 4);
  for (let p = 0; p < size * size; p++) {
    for (let c = 0; c < 3; c++) data[p * 4 + c] = value(c);
    data[p * 4 + 3] = 255;
  }
  return data;
}

function writePng(path: string, size: number, value: (channel: number) => number): void {
  const png = new PNG({ width: size, height: size });
  rgba(size, value).copy(png.data);
  writeFileSync(path, PNG.sync.write(png));
}

/** <root>/{train,test}/<class>/ with `perClass` images each; gray PNGs, or colour PNG + JPEG. */
function imageFolder(classes: string[], perClass: number, color: boolean, size = 6): string {
  const root = mkdtempSync(join(tmpdir(), 'slimlab-folder-'));
  for (const split of ['train', 'test']) {
    classes.forEach((name, label) => {
      const dir = join(root, split, name);
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < perClass; i++) {
        const value = (c: number) => (color ? 40 * label + 10 * c + i : 50 * label + i);
        if (color && i % 2 === 1) {
          writeFileSync(join(dir, `${i}.jpg`), jpeg.encode({ width: size, height: size, data: rgba(size, value) }, 100).data);
        } else {
          writePng(join(dir, `${i}.png`), size, value);
        }
      }
      writeFileSync(join(dir, 'notes.txt'), 'not an image');
    });
  }
  return root;
}

describe('image-folder datasets', () => {
  it('reads a grayscale folder as one channel, labels in class-name order', async () => {
    const root = imageFolder(['shirt', 'bag', 'coat'], 4, false);
    expect(await describeImageFolder(root, LIMITS)).toMatchObject({ classNames: ['bag', 'coat', 'shirt'], trainSize: 12, testSize: 12, channels: 1, height: 6, width: 6, sizesVary: false });
    const { test } = await loadSplits('IMAGE_FOLDER', root);
    expect([test.count, test.channels]).toEqual([12, 1]);
    expect(Array.from(test.labels)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    // 'bag' was written as label 1 (value 50 + i), image 2 of it: every pixel 52.
    expect(test.pixels[2 * 36]).toBe(52);
  });

  it('reads colour PNG and JPEG as three channels in NCHW', async () => {
    const root = imageFolder(['a', 'b'], 2, true);
    expect((await describeImageFolder(root, LIMITS)).channels).toBe(3);
    const { test } = await loadSplits('IMAGE_FOLDER', root);
    expect([test.count, test.channels, test.height]).toEqual([4, 3, 6]);
    const plane = 36;
    expect([test.pixels[0], test.pixels[plane], test.pixels[2 * plane]]).toEqual([0, 10, 20]);
    const jpegBlue = test.pixels[(1 * 3 + 2) * plane]!;
    expect(Math.abs(jpegBlue - 21)).toBeLessThanOrEqual(2);
  });

  it('names the file and the rule when the folder is wrong', async () => {
    const root = imageFolder(['a', 'b'], 2, false);
    writePng(join(root, 'test', 'b', 'big.png'), 8, () => 1);
    // Registration takes images of any size (the streamed loader resizes them) and records each one's.
    const shape = await describeImageFolder(root, LIMITS);
    expect(shape).toMatchObject({ height: 6, width: 6, sizesVary: true });
    expect(shape.splits.test.widths[shape.splits.test.paths.indexOf('test/b/big.png')]).toBe(8);
    mkdirSync(join(root, 'test', 'c'));
    await expect(describeImageFolder(root, LIMITS)).rejects.toThrow('test has classes c that train does not');
    await expect(register('IMAGE_FOLDER', join(root, 'missing'))).rejects.toThrow('train is not a folder; the loader reads it');
  });

  it('loads gray images into all three channels when another image is colour', async () => {
    const root = imageFolder(['a', 'b'], 2, false);
    writePng(join(root, 'test', 'b', '9.png'), 6, (c) => 100 + c);
    expect((await describeImageFolder(root, LIMITS)).channels).toBe(3);
    const { test } = await loadSplits('IMAGE_FOLDER', root);
    // Image 0 of class 'a' is gray 0, image 1 of class 'b' gray 51: each fills R, G and B; 9.png keeps its colour.
    expect([0, 1, 2].map((c) => test.pixels[c * 36])).toEqual([0, 0, 0]);
    expect([0, 1, 2].map((c) => test.pixels[(3 * 3 + c) * 36])).toEqual([51, 51, 51]);
    expect([0, 1, 2].map((c) => test.pixels[(4 * 3 + c) * 36])).toEqual([100, 101, 102]);
  });

  it('registers through GraphQL with its class names and loads for training', async () => {
    const server = await TestServer.start('sqlite');
    try {
      const root = imageFolder(['cat', 'dog'], 10, true);
      const { createProject: project } = await server.gql(`mutation { createProject(input: { name: "folders" }) { id } }`);
      const {
        registerDataset: { id, ...dataset },
      } = await server.gql(
        `mutation($p: ID!, $path: String!) { registerDataset(input: { projectId: $p, name: "pets", format: IMAGE_FOLDER, path: $path, searchFraction: 0.2 }) {
          id format inputChannels inputHeight numClasses classNames trainSize testSize searchSize } }`,
        { p: project.id, path: root },
      );
      expect(dataset).toEqual({ format: 'IMAGE_FOLDER', inputChannels: 3, inputHeight: 6, numClasses: 2, classNames: ['cat', 'dog'], trainSize: 20, testSize: 20, searchSize: 4 });
      const { spec, readBlob } = await server.jobDataset(id);
      const data = await openDataset(spec, { channels: 3, height: 6, width: 6 }, DEFAULT_TRANSFORMS, TEST_LOADER, readBlob);
      try {
        expect([data.train.count, data.search.count, data.test.count]).toEqual([16, 4, 20]);
      } finally {
        await data.close();
      }
      const bad = await server.gqlError(`mutation($p: ID!) { registerDataset(input: { projectId: $p, name: "x", format: IMAGE_FOLDER, path: "/tmp" }) { id } }`, { p: project.id });
      expect(bad).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.path' } });
    } finally {
      await server.stop();
    }
  });
});
