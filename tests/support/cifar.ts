import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageSet } from '../../executors/data/images';

const IMAGE_BYTES = 3 * 32 * 32;

/** One record as the CIFAR files hold it: the label byte(s), then the R, G and B planes, row by row. */
export function cifarRecord(labels: readonly number[], pixels: Uint8Array): Buffer {
  if (pixels.length !== IMAGE_BYTES) throw new Error(`a CIFAR image has ${IMAGE_BYTES} bytes, got ${pixels.length}`);
  return Buffer.concat([Buffer.from(labels), pixels]);
}

export interface CifarFixture {
  /** The dataset folder: what registerDataset is given. */
  readonly root: string;
  /** Where the files are: `root`, or its standard subfolder. */
  readonly files: string;
  /** What loading each split must give, in file order. */
  readonly expected: { readonly train: ImageSet; readonly test: ImageSet };
  readonly classNames: readonly string[];
}

export interface CifarOptions {
  /** Records per file: each of the five training batches of CIFAR-10, or train.bin of CIFAR-100. */
  readonly trainPerFile?: number;
  readonly test?: number;
  /** Put the files in `cifar-10-batches-bin/` or `cifar-100-binary/`, as the archives unpack. */
  readonly subfolder?: boolean;
  /** Write `batches.meta.txt` or `fine_label_names.txt`. */
  readonly classNamesFile?: boolean;
  readonly parent?: string;
}

/**
 * A small CIFAR-10 or CIFAR-100 folder in the standard layout. Every byte of every image differs
 * from its neighbours, so any mix-up of records, planes or rows shows. CIFAR-100's coarse label
 * differs from its fine one, so the loader's choice shows too.
 */
export function writeCifarDataset(classes: 10 | 100, options: CifarOptions = {}): CifarFixture {
  const root = mkdtempSync(join(options.parent ?? tmpdir(), `slimlab-cifar${classes}-`));
  const files = options.subfolder ? join(root, classes === 10 ? 'cifar-10-batches-bin' : 'cifar-100-binary') : root;
  mkdirSync(files, { recursive: true });
  const trainPerFile = options.trainPerFile ?? (classes === 10 ? 6 : 30);
  const names = classes === 10 ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`) : ['train.bin'];
  let serial = 0;
  const split = (fileNames: readonly string[], perFile: number): ImageSet => {
    const count = fileNames.length * perFile;
    const pixels = new Uint8Array(count * IMAGE_BYTES);
    const labels = new Uint8Array(count);
    fileNames.forEach((name, f) => {
      const records: Buffer[] = [];
      for (let r = 0; r < perFile; r++, serial++) {
        const i = f * perFile + r;
        const label = (serial * 7) % classes;
        const image = Uint8Array.from({ length: IMAGE_BYTES }, (_, p) => (serial * 11 + p * 3 + (p >> 8)) % 256);
        labels[i] = label;
        pixels.set(image, i * IMAGE_BYTES);
        records.push(cifarRecord(classes === 10 ? [label] : [19 - (label % 20), label], image));
      }
      writeFileSync(join(files, name), Buffer.concat(records));
    });
    return { count, channels: 3, height: 32, width: 32, pixels, labels };
  };
  const train = split(names, trainPerFile);
  const test = split([classes === 10 ? 'test_batch.bin' : 'test.bin'], options.test ?? 10);
  const classNames = Array.from({ length: classes }, (_, i) => `class-${i}`);
  if (options.classNamesFile) {
    // As the real files: one name a line, then blank lines.
    writeFileSync(join(files, classes === 10 ? 'batches.meta.txt' : 'fine_label_names.txt'), `${classNames.join('\n')}\n\n`);
  }
  return { root, files, expected: { train, test }, classNames };
}
