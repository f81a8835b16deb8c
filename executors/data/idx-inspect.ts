import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { DatasetFilesError, listDatasetFiles, type FolderShape } from './dataset-files';
import type { DatasetLimits } from './dataset-limits';
import { IDX_FILES, parseIdxHeader, type IdxHeader, type Split } from './idx';
import type { RecordSplit } from './manifest';
import { openRegular } from './regular-file';

/**
 * What registration learns from an MNIST-layout folder without holding its images: headers give
 * counts and dimensions, sizes are checked by streaming (gzip) or stat (plain), and only the labels
 * are kept. Every error is a DatasetFilesError naming files relative to the folder.
 */
export interface IdxFolderShape extends Omit<FolderShape, 'classNames'> {
  /** Where each split's images are, with every label: what the sample manifest records. */
  readonly splits: Readonly<Record<Split, RecordSplit>>;
}

interface SplitShape {
  readonly dims: readonly number[];
  readonly labels: Buffer;
  readonly labelsFile: string;
  readonly imagesFile: string;
  readonly imagesOffset: number;
  readonly imagesBytes: number;
}

/** Room for the largest header: 4 bytes, then 4 per dimension, at most 255 of them. */
const MAX_HEADER_BYTES = 4 + 4 * 255;
/** A channel count beyond this is not an image (SYNTHETIC allows the same). */
const MAX_CHANNELS = 4;

export async function inspectIdxFolder(base: string, limits: DatasetLimits): Promise<IdxFolderShape> {
  const names = new Set((await listDatasetFiles('IDX', base)).map((file) => file.path));
  const train = await inspectSplit(base, names, 'train', limits);
  const test = await inspectSplit(base, names, 'test', limits);
  const [, ...trainImage] = train.dims;
  const [, ...testImage] = test.dims;
  if (trainImage.join('×') !== testImage.join('×')) {
    throw new DatasetFilesError(`the test images are ${testImage.join('×')}, the training images ${trainImage.join('×')}; both splits need one shape`);
  }
  const numClasses = train.labels.reduce((max, label) => Math.max(max, label), 0) + 1;
  if (numClasses < 2) throw new DatasetFilesError(`${train.labelsFile} has one class; at least 2 are needed`);
  const outside = test.labels.findIndex((label) => label >= numClasses);
  if (outside >= 0) {
    throw new DatasetFilesError(`${test.labelsFile} has label ${test.labels[outside]} at index ${outside}; the training labels are 0 to ${numClasses - 1}`);
  }
  const [height, width, channels = 1] = trainImage as [number, number, number?];
  const records = (split: SplitShape): RecordSplit => ({
    kind: 'records',
    labels: [...split.labels],
    channels,
    height,
    width,
    layout: 'hwc',
    files: [
      {
        path: split.imagesFile,
        gzip: split.imagesFile.endsWith('.gz'),
        records: split.dims[0]!,
        offset: split.imagesOffset,
        stride: channels * height * width,
        bytes: split.imagesBytes,
      },
    ],
  });
  return { channels, height, width, numClasses, trainSize: train.dims[0]!, testSize: test.dims[0]!, splits: { train: records(train), test: records(test) } };
}

async function inspectSplit(base: string, names: ReadonlySet<string>, split: Split, limits: DatasetLimits): Promise<SplitShape> {
  // listDatasetFiles took `name` when present and `name.gz` otherwise, as the loader does.
  const file = (name: string) => (names.has(name) ? name : `${name}.gz`);
  const imagesFile = file(IDX_FILES[split].images);
  const labelsFile = file(IDX_FILES[split].labels);
  const images = await readIdx(base, imagesFile, limits, false, (header) => checkImages(imagesFile, header, limits));
  const count = images.header.dims[0]!;
  const labels = await readIdx(base, labelsFile, limits, true, (header) => {
    if (header.dims.length !== 1 || header.dims[0] !== count) {
      throw new DatasetFilesError(`${labelsFile} holds [${header.dims.join(', ')}] labels; ${imagesFile} has ${count} images`);
    }
  });
  return {
    dims: images.header.dims,
    labels: labels.values!,
    labelsFile,
    imagesFile,
    imagesOffset: images.header.offset,
    imagesBytes: images.fileBytes,
  };
}

function checkImages(name: string, { dims }: IdxHeader, limits: DatasetLimits): void {
  if (dims.length !== 3 && dims.length !== 4) throw new DatasetFilesError(`${name} has rank ${dims.length}; expected [N, H, W] or [N, H, W, C]`);
  const [count, height, width, channels = 1] = dims as [number, number, number, number?];
  if (count < 2) throw new DatasetFilesError(`${name} holds ${count} images; at least 2 are needed`);
  if (height < 1 || width < 1 || height > limits.maxImageSide || width > limits.maxImageSide) {
    throw new DatasetFilesError(`${name} has ${height}×${width} images; each side must be between 1 and ${limits.maxImageSide}`);
  }
  if (channels < 1 || channels > MAX_CHANNELS) throw new DatasetFilesError(`${name} has ${channels} channels; expected 1 to ${MAX_CHANNELS}`);
}

interface IdxContents {
  readonly header: IdxHeader;
  readonly values: Buffer | null;
  /** The file's size on disk (compressed, for a .gz). */
  readonly fileBytes: number;
}

/**
 * Reads one IDX file, checking its header with `check` before its values, and its size against the
 * header and `limits.maxFileBytes`: gzip output beyond what the header promises stops the read.
 */
async function readIdx(base: string, name: string, limits: DatasetLimits, keep: boolean, check: (header: IdxHeader) => void): Promise<IdxContents> {
  const handle = await openRegular(base, name);
  try {
    const { size } = await handle.stat();
    if (!name.endsWith('.gz') && !keep) return { ...(await headerOnly(handle, name, size, limits, check)), fileBytes: size };
    const sink = new IdxSink(name, limits, keep, check);
    const stream = handle.createReadStream({ autoClose: false });
    await (name.endsWith('.gz') ? pipeline(stream, createGunzip(), sink.consume) : pipeline(stream, sink.consume)).catch((error: Error & { code?: string }) => {
      // The sink's refusal can reach here as the AbortError of the streams it stopped.
      if (sink.refusal !== null) throw sink.refusal;
      throw new DatasetFilesError(`${name} cannot be read as ${name.endsWith('.gz') ? 'gzip' : 'IDX'} (${error.code ?? error.message})`);
    });
    return { ...sink.result(), fileBytes: size };
  } finally {
    await handle.close();
  }
}

/** A plain file's size is on disk: only its header is read. */
async function headerOnly(handle: FileHandle, name: string, size: number, limits: DatasetLimits, check: (header: IdxHeader) => void): Promise<Omit<IdxContents, 'fileBytes'>> {
  const head = Buffer.alloc(Math.min(size, MAX_HEADER_BYTES));
  await handle.read(head, 0, head.length, 0);
  const header = checkedHeader(head, name, limits, check);
  if (header === null) throw shortHeader(name, size);
  if (size - header.offset !== header.values) throw sizeMismatch(name, header, size - header.offset);
  return { header, values: null };
}

class IdxSink {
  private head = Buffer.alloc(0);
  private header: IdxHeader | null = null;
  private values: Buffer | null = null;
  private seen = 0;

  constructor(
    private readonly name: string,
    private readonly limits: DatasetLimits,
    private readonly keep: boolean,
    private readonly check: (header: IdxHeader) => void,
  ) {}

  refusal: DatasetFilesError | null = null;

  readonly consume = async (chunks: AsyncIterable<Buffer>): Promise<void> => {
    try {
      await this.take(chunks);
    } catch (error) {
      if (error instanceof DatasetFilesError) this.refusal = error;
      throw error;
    }
  };

  private async take(chunks: AsyncIterable<Buffer>): Promise<void> {
    for await (const chunk of chunks) {
      let data = chunk;
      if (this.header === null) {
        this.head = Buffer.concat([this.head, chunk]);
        this.header = checkedHeader(this.head, this.name, this.limits, this.check);
        if (this.header === null) continue;
        if (this.keep) this.values = Buffer.alloc(this.header.values);
        data = this.head.subarray(this.header.offset);
      }
      if (this.seen + data.length > this.header.values) throw sizeMismatch(this.name, this.header, this.seen + data.length, true);
      this.values?.set(data, this.seen);
      this.seen += data.length;
    }
  }

  result(): Omit<IdxContents, 'fileBytes'> {
    if (this.header === null) throw shortHeader(this.name, this.head.length);
    if (this.seen !== this.header.values) throw sizeMismatch(this.name, this.header, this.seen);
    return { header: this.header, values: this.values };
  }
}

/** The header once `head` holds all of it, checked by `check` and against the size limit. */
function checkedHeader(head: Buffer, name: string, limits: DatasetLimits, check: (header: IdxHeader) => void): IdxHeader | null {
  let header: IdxHeader | null;
  try {
    header = parseIdxHeader(head, name);
  } catch (error) {
    throw new DatasetFilesError((error as Error).message);
  }
  if (header === null) return null;
  check(header);
  if (header.values > limits.maxFileBytes) {
    throw new DatasetFilesError(`${name}: header gives ${header.values} values; a file may hold at most ${limits.maxFileBytes} bytes`);
  }
  return header;
}

function shortHeader(name: string, bytes: number): DatasetFilesError {
  return new DatasetFilesError(bytes === 0 ? `${name} is empty` : `${name} is too short for an IDX header (${bytes} bytes)`);
}

function sizeMismatch(name: string, header: IdxHeader, held: number, atLeast = false): DatasetFilesError {
  const holds = atLeast ? `holds more than that` : held < header.values ? `is truncated at ${held}` : `holds ${held}`;
  return new DatasetFilesError(`${name}: header gives ${header.values} values, the file ${holds}`);
}
