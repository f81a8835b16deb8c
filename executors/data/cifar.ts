import type { Split } from './idx';

/**
 * CIFAR-10 and CIFAR-100 in their binary layout, as the archives on the CIFAR page unpack. Each file
 * is a run of fixed-size records: the label byte(s), then a 32×32 colour image as 1024 red bytes,
 * 1024 green, 1024 blue, each plane row by row. That is the planar (CHW) layout the loader renders
 * from, so a record's pixels are read in place.
 */
export interface CifarVariant {
  readonly name: 'CIFAR-10' | 'CIFAR-100';
  readonly numClasses: number;
  /**
   * Bytes before the pixels. CIFAR-100 has a coarse (20 superclasses) then a fine (100 classes)
   * label; the fine one is used, so the label is always the last of these bytes.
   */
  readonly labelBytes: number;
  readonly train: readonly string[];
  readonly test: readonly string[];
  /** One class name a line, in label order; optional. */
  readonly classNamesFile: string;
  /** The folder the archive unpacks to, where the files are looked for when the top has none. */
  readonly folder: string;
}

export const CIFAR_SIDE = 32;
export const CIFAR_CHANNELS = 3;
const CIFAR_IMAGE_BYTES = CIFAR_CHANNELS * CIFAR_SIDE * CIFAR_SIDE;

const CIFAR_10: CifarVariant = {
  name: 'CIFAR-10',
  numClasses: 10,
  labelBytes: 1,
  train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
  test: ['test_batch.bin'],
  classNamesFile: 'batches.meta.txt',
  folder: 'cifar-10-batches-bin',
};

const CIFAR_100: CifarVariant = {
  name: 'CIFAR-100',
  numClasses: 100,
  labelBytes: 2,
  train: ['train.bin'],
  test: ['test.bin'],
  classNamesFile: 'fine_label_names.txt',
  folder: 'cifar-100-binary',
};

const VARIANTS = [CIFAR_10, CIFAR_100];

/** The subfolders a CIFAR dataset folder may hold its files in. */
export const CIFAR_SUBFOLDERS: readonly string[] = VARIANTS.map((variant) => variant.folder);

/** Every data file name of either variant: what tells a folder is CIFAR. */
export const CIFAR_DATA_FILES: readonly string[] = VARIANTS.flatMap((variant) => [...variant.train, ...variant.test]);

export function recordBytes(variant: CifarVariant): number {
  return variant.labelBytes + CIFAR_IMAGE_BYTES;
}

/** Where a dataset folder's CIFAR files are; every path is relative to the dataset folder, with `/`. */
export interface CifarLayout {
  readonly variant: CifarVariant;
  readonly files: Readonly<Record<Split, readonly string[]>>;
  /** The class names file, when the folder has one. */
  readonly classNamesFile: string | null;
}

/**
 * The folder's layout from the entry names of the dataset folder (key `''`) and of those of
 * CIFAR_SUBFOLDERS it has. The top wins over a subfolder; the variant is told by the file names.
 * Throws an Error naming files relative to the dataset folder.
 */
export function cifarLayout(listing: ReadonlyMap<string, ReadonlySet<string>>): CifarLayout {
  for (const folder of ['', ...CIFAR_SUBFOLDERS]) {
    const names = listing.get(folder);
    if (names === undefined) continue;
    const found = VARIANTS.filter((variant) => [...variant.train, ...variant.test].some((name) => names.has(name)));
    if (found.length > 1) throw new Error(`${folder || 'the folder'} holds both CIFAR-10 and CIFAR-100 files; keep one dataset per folder`);
    const variant = found[0];
    if (variant === undefined) continue;
    const at = (name: string) => (folder === '' ? name : `${folder}/${name}`);
    const missing = [...variant.train, ...variant.test].filter((name) => !names.has(name));
    if (missing.length > 0) throw new Error(`missing ${missing.map(at).join(', ')}; ${variant.name} needs ${expected(variant)}`);
    return {
      variant,
      files: { train: variant.train.map(at), test: variant.test.map(at) },
      classNamesFile: names.has(variant.classNamesFile) ? at(variant.classNamesFile) : null,
    };
  }
  throw new Error(
    `the folder holds no CIFAR files: expected ${VARIANTS.map((variant) => `${expected(variant)} (${variant.name})`).join(' or ')}, ` +
      `at the top of the folder or in ${CIFAR_SUBFOLDERS.map((folder) => `${folder}/`).join(' or ')}`,
  );
}

function expected(variant: CifarVariant): string {
  const names = [...variant.train, ...variant.test];
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}
