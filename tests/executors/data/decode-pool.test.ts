import { mkdtempSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DecodePool } from '../../../executors/data/decode-pool';
import type { DecodeItem } from '../../../executors/data/decode-protocol';
import { decodeImage } from '../../../executors/data/image-decode';
import { toPlanar } from '../../../executors/data/planar';
import type { ImageShape, Normalization, Planar, SampleRef } from '../../../executors/data/sample';
import { render } from '../../../executors/data/transforms';

const LIMITS = { maxFileBytes: 1 << 20, maxImageSide: 4096 };
const SIDE = 8;
const COLOUR: ImageShape = { channels: 3, height: SIDE, width: SIDE };
const GRAY: ImageShape = { channels: 1, height: SIDE, width: SIDE };
const COLOUR_NORM: Normalization = { mean: [0.5, 0.4, 0.3], std: [0.25, 0.2, 0.3] };
const GRAY_NORM: Normalization = { mean: [0.45], std: [0.22] };
/** The only plan the transforms stub renders; the real transforms are tested on their own. */
const COPY = { kind: 'copy', dy: 0, dx: 0, flip: false } as const;
const RECORD_HEADER = 16;
const RECORD_BYTES = 3 * SIDE * SIDE;

/** RGBA pixels that differ across the image and between images, so a misplaced plane or pixel shows. */
function rgba(seed: number, gray: boolean): Buffer {
  const data = Buffer.alloc(SIDE * SIDE * 4);
  for (let p = 0; p < SIDE * SIDE; p++) {
    for (let c = 0; c < 3; c++) data[p * 4 + c] = (seed * 37 + p * 5 + (gray ? 0 : c * 71)) % 256;
    data[p * 4 + 3] = 255;
  }
  return data;
}

function pngBytes(seed: number, gray: boolean): Buffer {
  const png = new PNG({ width: SIDE, height: SIDE });
  rgba(seed, gray).copy(png.data);
  return PNG.sync.write(png);
}

function pixels(seed: number, bytes: number): Uint8Array {
  return Uint8Array.from({ length: bytes }, (_, i) => (seed * 53 + i * 3) % 256);
}

const folder = mkdtempSync(join(tmpdir(), 'slimlab-decode-pool-'));
const path = (name: string) => join(folder, name);
const imageRef = (name: string): SampleRef => ({ kind: 'image', path: path(name), png: name.endsWith('.png') });

// Gray and colour PNGs, colour JPEGs; a record file of 4 colour records after a header; one shared buffer of 3.
for (let i = 0; i < 4; i++) writeFileSync(path(`gray-${i}.png`), pngBytes(i, true));
for (let i = 0; i < 4; i++) writeFileSync(path(`colour-${i}.png`), pngBytes(10 + i, false));
for (let i = 0; i < 4; i++) writeFileSync(path(`colour-${i}.jpg`), jpeg.encode({ width: SIDE, height: SIDE, data: rgba(20 + i, false) }, 90).data);
writeFileSync(path('records.bin'), Buffer.concat([Buffer.alloc(RECORD_HEADER, 0xee), ...[0, 1, 2, 3].map((i) => Buffer.from(pixels(i, RECORD_BYTES)))]));
const shared = new SharedArrayBuffer(3 * RECORD_BYTES);
new Uint8Array(shared).set(Array.from({ length: 3 }, (_, i) => Array.from(pixels(30 + i, RECORD_BYTES))).flat());
// A PNG cut short after its header, a link to a good one, and a tiny PNG whose header claims 20000×20000.
writeFileSync(path('corrupt.png'), pngBytes(1, false).subarray(0, 60));
writeFileSync(path('corrupt-too.png'), pngBytes(2, false).subarray(0, 60));
symlinkSync(path('colour-0.png'), path('link.png'));
const huge = pngBytes(3, false);
huge.writeUInt32BE(20000, 16);
huge.writeUInt32BE(20000, 20);
writeFileSync(path('huge.png'), huge);

const colourRefs: SampleRef[] = [
  ...[0, 1, 2, 3].flatMap((i) => [imageRef(`colour-${i}.png`), imageRef(`colour-${i}.jpg`)]),
  ...[0, 1, 2, 3].map((i): SampleRef => ({ kind: 'record', path: path('records.bin'), offset: RECORD_HEADER + i * RECORD_BYTES, shape: COLOUR })),
  ...[0, 1, 2].map((i): SampleRef => ({ kind: 'shared', buffer: 0, offset: i * RECORD_BYTES, shape: COLOUR })),
];
const grayRefs: SampleRef[] = [0, 1, 2, 3].map((i) => imageRef(`gray-${i}.png`));

/** Items with sample ids from `first`, odd ones backwards then even ones, so reassembly across threads is exercised. */
function items(refs: readonly SampleRef[], first = 0): DecodeItem[] {
  const all = refs.map((ref, i) => ({ sample: first + i, ref, plan: COPY }));
  return [...all.filter((_, i) => i % 2 === 1).reverse(), ...all.filter((_, i) => i % 2 === 0)];
}

/** What the pool must produce, computed in this thread: decode, convert to planar, render. */
function reference(batch: readonly DecodeItem[], out: ImageShape, norm: Normalization): Float32Array {
  const size = out.channels * out.height * out.width;
  const target = new Float32Array(batch.length * size);
  batch.forEach(({ ref, plan }, i) => render(planarOf(ref), plan, out, norm, target, i * size));
  return target;
}

function planarOf(ref: SampleRef): Planar {
  switch (ref.kind) {
    case 'image':
      return toPlanar(decodeImage(readFileSync(ref.path), ref.png));
    case 'record':
      return { ...ref.shape, data: readFileSync(ref.path).subarray(ref.offset, ref.offset + RECORD_BYTES) };
    case 'shared':
      return { ...ref.shape, data: new Uint8Array(shared, ref.offset, RECORD_BYTES) };
  }
}

function readlinkOr(link: string): string | null {
  try {
    return readlinkSync(link);
  } catch {
    return null; // the descriptor closed while the folder was listed
  }
}

/** Runs `body` with a fresh pool, closing it whatever happens. */
async function withPool<T>(options: { threads: number; cacheBytes: number }, body: (pool: DecodePool) => Promise<T>): Promise<T> {
  const pool = await DecodePool.start({ ...options, limits: LIMITS, shared: [shared] });
  try {
    return await body(pool);
  } finally {
    await pool.close();
  }
}

describe('DecodePool', () => {
  it('decodes gray images to one channel and colour ones, JPEGs included, to three', () => {
    expect(grayRefs.map((ref) => planarOf(ref).channels)).toEqual([1, 1, 1, 1]);
    expect(colourRefs.map((ref) => planarOf(ref).channels)).toEqual(colourRefs.map(() => 3));
  });

  it.each([1, 2])('with %i thread(s) renders PNGs, JPEGs, records and shared buffers exactly as decoding in this thread does', async (threads) => {
    await withPool({ threads, cacheBytes: 1 << 20 }, async (pool) => {
      const colour = items(colourRefs);
      const gray = items(grayRefs, 100);
      // Two batches in flight at once, as a prefetching loader sends them.
      const [a, b] = await Promise.all([pool.render(colour, COLOUR, COLOUR_NORM, false), pool.render(gray, GRAY, GRAY_NORM, false)]);
      expect(a.skipped).toEqual([]);
      expect(a.images).toEqual(reference(colour, COLOUR, COLOUR_NORM));
      expect(b.images).toEqual(reference(gray, GRAY, GRAY_NORM));
      expect(await pool.render([], COLOUR, COLOUR_NORM, false)).toEqual({ images: new Float32Array(0), skipped: [] });
    });
  });

  it('fails a batch with a corrupt image, naming the file, or with skipCorrupt leaves it out and says where it was', async () => {
    await withPool({ threads: 2, cacheBytes: 1 << 20 }, async (pool) => {
      const good = items(colourRefs.slice(0, 6));
      const batch = [good[0]!, { sample: 50, ref: imageRef('corrupt.png'), plan: COPY }, ...good.slice(1, 4), { sample: 53, ref: imageRef('corrupt-too.png'), plan: COPY }, ...good.slice(4)];
      await expect(pool.render(batch.slice(0, 5), COLOUR, COLOUR_NORM, false)).rejects.toThrow(`${path('corrupt.png')}: cannot decode the image`);
      const { images, skipped } = await pool.render(batch, COLOUR, COLOUR_NORM, true);
      expect(skipped).toEqual([1, 5]);
      expect(images).toEqual(reference(good, COLOUR, COLOUR_NORM));
      const pastTheEnd: DecodeItem = { sample: 60, ref: { kind: 'record', path: path('records.bin'), offset: RECORD_HEADER + 4 * RECORD_BYTES, shape: COLOUR }, plan: COPY };
      await expect(pool.render([pastTheEnd], COLOUR, COLOUR_NORM, false)).rejects.toThrow(`${path('records.bin')}: ends before the 192-byte record at offset 784`);
      const noBuffer: DecodeItem = { sample: 61, ref: { kind: 'shared', buffer: 1, offset: 0, shape: COLOUR }, plan: COPY };
      await expect(pool.render([noBuffer], COLOUR, COLOUR_NORM, false)).rejects.toThrow('shared buffer 1: there is no such buffer; the pool was given 1');
    });
  });

  it('refuses a symbolic link, and an image whose header is too large before decoding it', async () => {
    await withPool({ threads: 1, cacheBytes: 0 }, async (pool) => {
      await expect(pool.render([{ sample: 0, ref: imageRef('link.png'), plan: COPY }], COLOUR, COLOUR_NORM, false)).rejects.toThrow(`${path('link.png')}: is a symbolic link`);
      // Decoding would fail on the patched header's checksum; the size check answers first.
      await expect(pool.render([{ sample: 1, ref: imageRef('huge.png'), plan: COPY }], COLOUR, COLOUR_NORM, false)).rejects.toThrow(
        `${path('huge.png')}: is 20000×20000; each side must be between 1 and 4096`,
      );
    });
  });

  it('serves a second pass from the cache when it is large enough', async () => {
    await withPool({ threads: 2, cacheBytes: 1 << 20 }, async (pool) => {
      const batch = items(colourRefs);
      const cached = colourRefs.filter((ref) => ref.kind !== 'shared').length;
      await pool.render(batch, COLOUR, COLOUR_NORM, false);
      expect(await pool.stats()).toMatchObject({ limitBytes: 1 << 20, hits: 0, misses: cached, entries: cached, bytes: cached * RECORD_BYTES, evictions: 0 });
      const again = await pool.render(batch, COLOUR, COLOUR_NORM, false);
      expect(again.images).toEqual(reference(batch, COLOUR, COLOUR_NORM));
      expect(await pool.stats()).toMatchObject({ hits: cached, misses: cached });
    });
  });

  it('keeps a cache smaller than the set within its limit, evicting, and still renders correctly', async () => {
    // Each thread's share holds two of the 192-byte images; each thread is sent six.
    await withPool({ threads: 2, cacheBytes: 2 * 400 }, async (pool) => {
      const batch = items(colourRefs.filter((ref) => ref.kind !== 'shared'));
      for (let pass = 0; pass < 2; pass++) {
        expect((await pool.render(batch, COLOUR, COLOUR_NORM, false)).images).toEqual(reference(batch, COLOUR, COLOUR_NORM));
      }
      const stats = await pool.stats();
      expect(stats.limitBytes).toBe(800);
      expect(stats.peakBytes).toBeLessThanOrEqual(stats.limitBytes);
      expect(stats.peakBytes).toBe(4 * RECORD_BYTES);
      expect(stats.evictions).toBeGreaterThan(0);
    });
  });

  it('keeps a record file open in each thread that reads it, and closes it with the pool', async () => {
    const records = path('records.bin');
    const openCount = () => readdirSync('/proc/self/fd').filter((fd) => readlinkOr(join('/proc/self/fd', fd)) === records).length;
    const pool = await DecodePool.start({ threads: 2, cacheBytes: 0, limits: LIMITS });
    const batch = items(colourRefs.filter((ref) => ref.kind === 'record'));
    await pool.render(batch, COLOUR, COLOUR_NORM, false);
    await pool.render(batch, COLOUR, COLOUR_NORM, false);
    expect(openCount()).toBe(2);
    await pool.close();
    expect(openCount()).toBe(0);
  });

  it('rejects what is pending when closed, and everything after', async () => {
    const pool = await DecodePool.start({ threads: 2, cacheBytes: 0, limits: LIMITS });
    const pending = pool.render(items(colourRefs.slice(0, 8)), COLOUR, COLOUR_NORM, false);
    const closed = pool.close();
    await expect(pending).rejects.toThrow('the decode pool was closed before this request was answered');
    await closed;
    await pool.close();
    await expect(pool.render(items(colourRefs.slice(0, 1)), COLOUR, COLOUR_NORM, false)).rejects.toThrow('the decode pool is closed');
    await expect(pool.stats()).rejects.toThrow('the decode pool is closed');
  });

  it('rejects the tasks of a thread that dies, saying so, and every later batch', async () => {
    await withPool({ threads: 2, cacheBytes: 0 }, async (pool) => {
      const pending = pool.render(items(colourRefs.slice(0, 8)), COLOUR, COLOUR_NORM, false);
      // Nothing a sample can do kills a thread, so the test stops one from outside.
      void (pool as unknown as { threads: { worker: { terminate(): Promise<number> } }[] }).threads[1]!.worker.terminate();
      await expect(pending).rejects.toThrow('decode thread 2 of 2 exited with code 1');
      await expect(pool.render(items(colourRefs.slice(0, 1)), COLOUR, COLOUR_NORM, false)).rejects.toThrow('decode thread 2 of 2 exited with code 1');
    });
  });

  it('refuses sample ids that cannot pick a thread, and a pool without threads', async () => {
    await withPool({ threads: 1, cacheBytes: 0 }, async (pool) => {
      await expect(pool.render([{ sample: -1, ref: colourRefs[0]!, plan: COPY }], COLOUR, COLOUR_NORM, false)).rejects.toThrow('sample ids are whole numbers of 0 or more, got -1');
    });
    await expect(DecodePool.start({ threads: 0, cacheBytes: 0, limits: LIMITS })).rejects.toThrow('positive whole number of threads, got 0');
  });
});
