import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectCifarFolder } from '../../../executors/data/cifar-inspect';
import { listDatasetFiles } from '../../../executors/data/dataset-files';
import { searchSplit } from '../../../executors/data/split';
import { cifarRecord, writeCifarDataset, type CifarOptions } from '../../support/cifar';
import { subset } from '../../support/reference-loader';
import { all, decoded, loadSplits, open, register, TEST_LIMITS as LIMITS } from '../../support/streamed';

const PLANE = 32 * 32;
const INPUT = { channels: 3, height: 32, width: 32 };

const parent = mkdtempSync(join(tmpdir(), 'slimlab-cifar-test-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

/** A generated CIFAR folder under this test's temporary folder. */
const cifar = (classes: 10 | 100, options: CifarOptions = {}) => writeCifarDataset(classes, { ...options, parent });

describe('CIFAR datasets', () => {
  it('keeps the pixel order: red, green, blue planes, rows top to bottom, as NCHW', async () => {
    const { root, files } = cifar(10);
    // Red counts rows, green counts columns, blue is the sum: a swap of planes or axes shows.
    const image = new Uint8Array(3 * PLANE);
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        image[y * 32 + x] = y;
        image[PLANE + y * 32 + x] = 100 + x;
        image[2 * PLANE + y * 32 + x] = 150 + x + y;
      }
    }
    writeFileSync(join(files, 'test_batch.bin'), Buffer.concat([cifarRecord([7], image), cifarRecord([2], new Uint8Array(3 * PLANE).fill(9))]));

    const { data } = await open('CIFAR', root);
    const test = await decoded(data.test, INPUT).finally(() => data.close());
    expect([test.count, test.channels, test.height, test.width, Array.from(test.labels)]).toEqual([2, 3, 32, 32, [7, 2]]);
    const at = (c: number, y: number, x: number) => test.pixels[c * PLANE + y * 32 + x];
    expect([at(0, 5, 20), at(1, 5, 20), at(2, 5, 20)]).toEqual([5, 120, 175]);
    expect([at(0, 31, 0), at(1, 31, 0), at(2, 31, 0)]).toEqual([31, 100, 181]);
    expect(test.pixels[3 * PLANE]).toBe(9);
  });

  it('inspects and loads CIFAR-10 from its archive folder: shape, class names, and every pixel and label', async () => {
    const { root, expected, classNames } = cifar(10, { subfolder: true, classNamesFile: true });
    const shape = await inspectCifarFolder(root, LIMITS);
    expect(shape).toMatchObject({ channels: 3, height: 32, width: 32, numClasses: 10, trainSize: 30, testSize: 10, classNames });
    // The manifest's records: label byte first, then the pixels, 3,073 bytes a record.
    expect(shape.splits.test.files).toEqual([{ path: 'cifar-10-batches-bin/test_batch.bin', gzip: false, records: 10, offset: 1, stride: 3073, bytes: 30730 }]);
    expect(shape.splits.train.labels).toHaveLength(30);
    const split = searchSplit(30, 0.2, 5);
    const loaded = await loadSplits('CIFAR', root, { searchFraction: 0.2, splitSeed: 5 });
    expect(loaded.train).toEqual(subset(expected.train, split.trainIndices));
    expect(loaded.search).toEqual(subset(expected.train, split.searchIndices));
    expect(loaded.test).toEqual(expected.test);
    // The files the loader reads are the ones shipped to workers; the class names are the server's.
    expect((await listDatasetFiles('CIFAR', root)).map((file) => file.path)).toEqual([
      ...[1, 2, 3, 4, 5].map((i) => `cifar-10-batches-bin/data_batch_${i}.bin`),
      'cifar-10-batches-bin/test_batch.bin',
    ]);
  });

  it('reads CIFAR-100 with its fine labels', async () => {
    const { root, expected, classNames } = cifar(100, { classNamesFile: true });
    expect(await inspectCifarFolder(root, LIMITS)).toMatchObject({ numClasses: 100, trainSize: 30, testSize: 10, classNames });
    const loaded = await loadSplits('CIFAR', root);
    expect(loaded.train).toEqual(subset(expected.train, loaded.split.trainIndices));
    expect(loaded.search).toEqual(subset(expected.train, loaded.split.searchIndices));
    expect(loaded.test).toEqual(expected.test);
    expect(Math.max(...expected.train.labels)).toBeGreaterThan(19);
  });

  it('names the folder or file and the rule when the layout is wrong', async () => {
    const refusal = (root: string) => inspectCifarFolder(root, LIMITS).catch((error: Error) => error.message);

    const both = cifar(10).root;
    writeFileSync(join(both, 'train.bin'), readFileSync(join(both, 'data_batch_1.bin')));
    expect(await refusal(both)).toBe('the folder holds both CIFAR-10 and CIFAR-100 files; keep one dataset per folder');

    const none = mkdtempSync(join(parent, 'none-'));
    mkdirSync(join(none, 'cifar-10-batches-bin'));
    expect(await refusal(none)).toBe(
      'the folder holds no CIFAR files: expected data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin and test_batch.bin (CIFAR-10) ' +
        'or train.bin and test.bin (CIFAR-100), at the top of the folder or in cifar-10-batches-bin/ or cifar-100-binary/',
    );

    const partial = cifar(10, { subfolder: true });
    rmSync(join(partial.files, 'data_batch_4.bin'));
    expect(await refusal(partial.root)).toBe(
      'missing cifar-10-batches-bin/data_batch_4.bin; CIFAR-10 needs data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin and test_batch.bin',
    );
    await expect(register('CIFAR', partial.root)).rejects.toThrow('missing cifar-10-batches-bin/data_batch_4.bin');

    const empty = cifar(100).root;
    writeFileSync(join(empty, 'test.bin'), '');
    expect(await refusal(empty)).toBe('test.bin is empty');

    const large = cifar(10).root;
    await expect(inspectCifarFolder(large, { ...LIMITS, maxFileBytes: 5 * 3073 })).rejects.toThrow('data_batch_1.bin holds 18438 bytes; a file may hold at most 15365');

    const names = cifar(10, { classNamesFile: true }).root;
    writeFileSync(join(names, 'batches.meta.txt'), 'cat\ndog\n');
    expect(await refusal(names)).toBe('batches.meta.txt names 2 classes; CIFAR-10 has 10, one a line');
  });

  it('reads only regular files, and no folder through a link', async () => {
    const fifo = cifar(10).root;
    rmSync(join(fifo, 'data_batch_2.bin'));
    execFileSync('mkfifo', [join(fifo, 'data_batch_2.bin')]);
    await expect(inspectCifarFolder(fifo, LIMITS)).rejects.toThrow('data_batch_2.bin is a FIFO, not a regular file');
    await expect(listDatasetFiles('CIFAR', fifo)).rejects.toThrow('data_batch_2.bin is a FIFO, not a regular file');

    const linked = cifar(10, { subfolder: true });
    renameSync(linked.files, join(linked.root, 'elsewhere'));
    symlinkSync(join(linked.root, 'elsewhere'), linked.files);
    await expect(inspectCifarFolder(linked.root, LIMITS)).rejects.toThrow('cifar-10-batches-bin is a symbolic link');
  });

  it('fails naming the file when a record is gone since registration', async () => {
    const { root, files } = cifar(100);
    const { data } = await open('CIFAR', root);
    try {
      // Record 1 of test.bin starts at 3074 + 2 label bytes; 5 bytes are left of it.
      writeFileSync(join(files, 'test.bin'), readFileSync(join(files, 'test.bin')).subarray(0, 3074 + 5));
      await expect(all(data.test.batches([0, 1], 2))).rejects.toThrow(/^test\.bin: ends before the 3072-byte record at offset 3076$/);
    } finally {
      await data.close();
    }
  });
});
