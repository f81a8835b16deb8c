import { closeSync, fstatSync, readSync } from 'node:fs';
import type { DatasetLimits } from './dataset-limits';
import { decodeImage } from './image-decode';
import { readImageHeader } from './image-header';
import { toPlanar } from './planar';
import { openRegularSync } from './regular-file';
import type { ImageShape, Planar, SampleRef } from './sample';

/**
 * Reads one sample's pixels wherever its ref says they are, for a decoder thread: one call at a
 * time, synchronous file reads (the thread has nothing else to do meanwhile). Record files stay open
 * between calls, as a dataset's records are read from a few files over and over, until the thread
 * ends: Node closes the descriptors a worker opened when it exits.
 */
export class SampleReader {
  private readonly recordFiles = new Map<string, number>();

  constructor(
    private readonly limits: DatasetLimits,
    private readonly shared: readonly SharedArrayBuffer[],
  ) {}

  /** Throws an Error whose message is `<where the sample is>: <what is wrong>`. */
  async read(ref: SampleRef): Promise<Planar> {
    try {
      switch (ref.kind) {
        case 'image':
          return await this.image(ref.path, ref.png);
        case 'record':
          return this.record(ref.path, ref.offset, ref.shape);
        case 'shared':
          return this.sharedView(ref.buffer, ref.offset, ref.shape);
      }
    } catch (error) {
      throw new Error(`${sampleSource(ref)}: ${(error as Error).message}`);
    }
  }

  private async image(path: string, png: boolean): Promise<Planar> {
    const fd = openRegularSync(path);
    let bytes: Buffer;
    try {
      const { size } = fstatSync(fd);
      if (size > this.limits.maxFileBytes) throw new Error(`holds ${size} bytes; a file may hold at most ${this.limits.maxFileBytes}`);
      const buffer = Buffer.alloc(size);
      bytes = buffer.subarray(0, readFully(fd, buffer, 0));
    } finally {
      closeSync(fd);
    }
    // The file, bounded by maxFileBytes, is read whole and its header parsed from memory (not one read
    // per JPEG segment); the header then bounds the pixels before any is decoded.
    const header = await readImageHeader(async (position, length) => bytes.subarray(position, position + length), png);
    const side = this.limits.maxImageSide;
    if (header.width < 1 || header.height < 1 || header.width > side || header.height > side) {
      throw new Error(`is ${header.width}×${header.height}; each side must be between 1 and ${side}`);
    }
    return toPlanar(decodeImage(bytes, png));
  }

  private record(path: string, offset: number, shape: ImageShape): Planar {
    let fd = this.recordFiles.get(path);
    if (fd === undefined) {
      fd = openRegularSync(path);
      this.recordFiles.set(path, fd);
    }
    // A record is a slice of a file that may be far larger than maxFileBytes (a CIFAR batch, an IDX
    // file); only the slice is read, and its size comes from the dataset's shape, not the file.
    const data = new Uint8Array(shape.channels * shape.height * shape.width);
    const found = readFully(fd, data, offset);
    if (found < data.length) throw new Error(`ends before the ${data.length}-byte record at offset ${offset}`);
    return { channels: shape.channels, height: shape.height, width: shape.width, data };
  }

  private sharedView(index: number, offset: number, shape: ImageShape): Planar {
    const buffer = this.shared[index];
    if (!buffer) throw new Error(`there is no such buffer; the pool was given ${this.shared.length}`);
    const size = shape.channels * shape.height * shape.width;
    if (offset < 0 || offset + size > buffer.byteLength) throw new Error(`holds no ${size}-byte image at offset ${offset} (it has ${buffer.byteLength} bytes)`);
    return { channels: shape.channels, height: shape.height, width: shape.width, data: new Uint8Array(buffer, offset, size) };
  }
}

/** Where a sample's pixels are, in words, as errors about it begin. */
export function sampleSource(ref: SampleRef): string {
  return ref.kind === 'shared' ? `shared buffer ${ref.buffer}` : ref.path;
}

/** Reads into `target` from `position` until it is full or the file ends; returns the bytes read. */
function readFully(fd: number, target: Uint8Array, position: number): number {
  let done = 0;
  while (done < target.length) {
    const read = readSync(fd, target, done, target.length - done, position + done);
    if (read === 0) break;
    done += read;
  }
  return done;
}
