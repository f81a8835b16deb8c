import type { FileHandle } from 'node:fs/promises';
import { CIFAR_CHANNELS, CIFAR_SIDE, recordBytes, type CifarVariant } from './cifar';
import { cifarLayoutOf, DatasetFilesError, type FolderShape } from './dataset-files';
import type { DatasetLimits } from './dataset-limits';
import type { RecordFile, RecordSplit } from './manifest';
import { openRegular } from './regular-file';

/**
 * What registration learns from a CIFAR folder without decoding an image: the variant from the file
 * names, the counts from the file sizes, and every label checked in range. Every error is a
 * DatasetFilesError naming files relative to the folder.
 */
export interface CifarShape extends FolderShape {
  /** From the variant's class names file, when the folder has one. */
  readonly classNames: readonly string[] | null;
  /** Where each split's records are, with every label: what the sample manifest records. */
  readonly splits: Readonly<Record<'train' | 'test', RecordSplit>>;
}

/**
 * Records read per chunk while labels are checked. A record (3 KB) is smaller than a page, so the
 * disk reads every page of the file whatever we ask for; large reads make that one call per 3 MB
 * rather than one per label.
 */
const RECORDS_PER_READ = 1024;
/** A class names file is a few hundred bytes; anything far larger is not one. */
const MAX_CLASS_NAMES_BYTES = 64 * 1024;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export async function inspectCifarFolder(base: string, limits: DatasetLimits): Promise<CifarShape> {
  const { variant, files, classNamesFile } = await cifarLayoutOf(base);
  const sizes = { train: 0, test: 0 };
  const splits = {} as Record<'train' | 'test', RecordSplit>;
  for (const split of ['train', 'test'] as const) {
    const labels: number[] = [];
    const recordFiles: RecordFile[] = [];
    for (const path of files[split]) recordFiles.push(await checkRecords(base, path, variant, limits, labels));
    sizes[split] = labels.length;
    if (sizes[split] < 2) throw new DatasetFilesError(`the ${split} split (${files[split].join(', ')}) holds ${sizes[split]} records; at least 2 are needed`);
    splits[split] = { kind: 'records', labels, channels: CIFAR_CHANNELS, height: CIFAR_SIDE, width: CIFAR_SIDE, layout: 'chw', files: recordFiles };
  }
  return {
    splits,
    channels: CIFAR_CHANNELS,
    height: CIFAR_SIDE,
    width: CIFAR_SIDE,
    numClasses: variant.numClasses,
    trainSize: sizes.train,
    testSize: sizes.test,
    classNames: classNamesFile === null ? null : await readClassNames(base, classNamesFile, variant),
  };
}

/** The records of `path`, once its size is whole records and every label is in range; their labels go to `labels`. */
async function checkRecords(base: string, path: string, variant: CifarVariant, limits: DatasetLimits, labels: number[]): Promise<RecordFile> {
  const record = recordBytes(variant);
  const handle = await openRegular(base, path);
  try {
    const { size } = await handle.stat();
    if (size === 0) throw new DatasetFilesError(`${path} is empty`);
    if (size > limits.maxFileBytes) throw new DatasetFilesError(`${path} holds ${size} bytes; a file may hold at most ${limits.maxFileBytes}`);
    if (size % record !== 0) {
      throw new DatasetFilesError(
        `${path} holds ${size} bytes, not a whole number of ${record}-byte ${variant.name} records (${Math.floor(size / record)} and ${size % record} bytes over); is it truncated?`,
      );
    }
    await readLabels(handle, path, size / record, variant, labels);
    return { path, gzip: false, records: size / record, offset: variant.labelBytes, stride: record, bytes: size };
  } finally {
    await handle.close();
  }
}

async function readLabels(handle: FileHandle, path: string, count: number, variant: CifarVariant, labels: number[]): Promise<void> {
  const record = recordBytes(variant);
  const chunk = Buffer.alloc(RECORDS_PER_READ * record);
  for (let first = 0; first < count; first += RECORDS_PER_READ) {
    const records = Math.min(RECORDS_PER_READ, count - first);
    const { bytesRead } = await handle.read(chunk, 0, records * record, first * record);
    if (bytesRead < records * record) throw new DatasetFilesError(`${path} shrank while it was read; register the dataset again once it is complete`);
    for (let r = 0; r < records; r++) {
      const label = chunk[r * record + variant.labelBytes - 1]!;
      if (label >= variant.numClasses) {
        throw new DatasetFilesError(`${path} has label ${label} in record ${first + r}; ${variant.name} labels are 0 to ${variant.numClasses - 1}`);
      }
      labels.push(label);
    }
  }
}

/** One name a line in label order; blank lines (the files end with some) are skipped. */
async function readClassNames(base: string, path: string, variant: CifarVariant): Promise<string[]> {
  const handle = await openRegular(base, path);
  try {
    const { size } = await handle.stat();
    if (size > MAX_CLASS_NAMES_BYTES) throw new DatasetFilesError(`${path} holds ${size} bytes; a class names file may hold at most ${MAX_CLASS_NAMES_BYTES}`);
    const names = (await handle.readFile('utf8'))
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.length > 0);
    if (names.length !== variant.numClasses) {
      throw new DatasetFilesError(`${path} names ${names.length} classes; ${variant.name} has ${variant.numClasses}, one a line`);
    }
    const bad = names.findIndex((name) => CONTROL.test(name));
    if (bad >= 0) throw new DatasetFilesError(`${path}: class name ${bad + 1} holds a control character`);
    return names;
  } finally {
    await handle.close();
  }
}
