import { Rng } from '../../../executors/rng';
import { channelStatistics } from '../../../executors/data/channel-statistics';
import type { ImageSet } from '../../../executors/data/images';
import type { Normalization, Planar, SamplePlan } from '../../../executors/data/sample';
import { centreCrop, randomResizedCrop, render } from '../../../executors/data/transforms';
import { batches } from '../../support/reference-loader';

/** An Rng that hands out scripted floats, and for nextInt(n) floor(f·n) of the next scripted float, recording n. */
function scripted(floats: number[]): { rng: Rng; ranges: number[]; left: () => number } {
  const queue = [...floats];
  const ranges: number[] = [];
  const next = (): number => {
    if (queue.length === 0) throw new Error('script ran out');
    return queue.shift()!;
  };
  const rng = { nextFloat: next, nextInt: (n: number) => (ranges.push(n), Math.floor(next() * n)) } as unknown as Rng;
  return { rng, ranges, left: () => queue.length };
}

function randomImage(rng: Rng, channels: number, height: number, width: number): Planar {
  const data = new Uint8Array(channels * height * width);
  for (let i = 0; i < data.length; i++) data[i] = rng.nextInt(256);
  return { channels, height, width, data };
}

/** mean 0, std 1: the output is pixel / 255. */
const UNIT: Normalization = { mean: [0], std: [1] };
const WHOLE = (width: number, height: number) => ({ x: 0, y: 0, width, height });

function rendered(image: Planar, plan: SamplePlan, height: number, width: number, norm: Normalization = UNIT): number[] {
  const channels = norm.mean.length;
  const target = new Float32Array(channels * height * width);
  render(image, plan, { channels, height, width }, norm, target, 0);
  return Array.from(target, (v) => v * 255);
}

function expectClose(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
}

describe('randomResizedCrop', () => {
  it('draws area, then aspect, per attempt, and y before x once a crop fits', () => {
    // 100×80: attempt 1 wants 7926.4 px² at aspect 3/4, i.e. 77×103, taller than the image.
    // Attempt 2: 8000·(0.08 + 0.5·0.92) = 4320 px² at aspect 1: 66×66 (√4320 = 65.73).
    const { rng, ranges, left } = scripted([0.99, 0, 0.5, 0.5, 0.5, 0.6]);
    const box = randomResizedCrop(rng, 100, 80, [0.08, 1], [3 / 4, 4 / 3]);
    expect(ranges).toEqual([80 - 66 + 1, 100 - 66 + 1]);
    expect(box).toEqual({ x: Math.floor(0.6 * 35), y: Math.floor(0.5 * 15), width: 66, height: 66 });
    expect(left()).toBe(0);
  });

  it('falls back to a centre crop clamped to the ratio range after ten misses, drawing twice per miss', () => {
    const never = [2, 3] as const;
    const wide = scripted(new Array(20).fill(0.5));
    // 100×20 is wider than 4/3: full height, 20·4/3 = 26.67 → 27 wide, x = floor(73/2).
    expect(randomResizedCrop(wide.rng, 100, 20, never, [3 / 4, 4 / 3])).toEqual({ x: 36, y: 0, width: 27, height: 20 });
    expect(wide.left()).toBe(0);
    expect(wide.ranges).toEqual([]);
    const tall = scripted(new Array(20).fill(0.5));
    expect(randomResizedCrop(tall.rng, 20, 100, never, [3 / 4, 4 / 3])).toEqual({ x: 0, y: 36, width: 20, height: 27 });
    const square = scripted(new Array(20).fill(0.5));
    expect(randomResizedCrop(square.rng, 50, 50, never, [3 / 4, 4 / 3])).toEqual({ x: 0, y: 0, width: 50, height: 50 });
    // 73 / 2 = 36.5 rounds to the even 36, as Python's round() does; floor((100 − 36) / 2) = 32.
    const tie = scripted(new Array(20).fill(0.5));
    expect(randomResizedCrop(tie.rng, 73, 100, never, [2, 3])).toEqual({ x: 0, y: 32, width: 73, height: 36 });
  });

  it('always returns a non-empty integer box inside the image', () => {
    const rng = new Rng(11);
    const sizes = [[1, 1], [1, 500], [500, 1], [3, 2], [640, 480], [37, 1000]] as const;
    for (let i = 0; i < 500; i++) {
      const [width, height] = i < sizes.length * 10 ? sizes[i % sizes.length]! : [1 + rng.nextInt(300), 1 + rng.nextInt(300)];
      const box = randomResizedCrop(rng, width, height, [0.08, 1], [3 / 4, 4 / 3]);
      for (const v of [box.x, box.y, box.width, box.height]) expect(Number.isInteger(v)).toBe(true);
      expect(box.width).toBeGreaterThan(0);
      expect(box.height).toBeGreaterThan(0);
      expect(box.x + box.width).toBeLessThanOrEqual(width);
      expect(box.y + box.height).toBeLessThanOrEqual(height);
      expect(Math.min(box.x, box.y)).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('centreCrop', () => {
  it('is the source box of resizing the shorter side to floor(out / ratio) and cropping the centre', () => {
    // floor(32 / 0.875) = 36, so one output pixel is 96/36 source pixels and the box is 85.33 wide.
    const square = centreCrop(96, 96, { height: 32, width: 32 }, 0.875);
    for (const side of [square.width, square.height]) expect(side).toBeCloseTo(85.3333, 4);
    expect(square.x).toBeCloseTo((96 - 256 / 3) / 2, 10);
    expect(square.y).toBeCloseTo(square.x, 10);
    // 120×80: the shorter side 80 maps to 36, so the box is 32·80/36 = 71.11 on a side.
    const wide = centreCrop(120, 80, { height: 32, width: 32 }, 0.875);
    expect(wide.width).toBeCloseTo(71.1111, 4);
    expect(wide.height).toBeCloseTo(71.1111, 4);
    expect(wide.x).toBeCloseTo((120 - 640 / 9) / 2, 10);
    expect(wide.y).toBeCloseTo((80 - 640 / 9) / 2, 10);
    expect(centreCrop(32, 32, { height: 32, width: 32 }, 1)).toEqual(WHOLE(32, 32));
    expect(() => centreCrop(32, 32, { height: 32, width: 32 }, 0)).toThrow(/ratio must be in \(0, 1\], got 0/);
    expect(() => centreCrop(32, 32, { height: 32, width: 32 }, 1.1)).toThrow(/got 1.1/);
  });
});

describe('render, resampling', () => {
  it('shrinks with a triangle twice as wide, repeating the edge pixel', () => {
    // 4 → 2 has support 2. Output 0 (centre 1) weighs source −1, 0, 1, 2 by 1/8, 3/8, 3/8, 1/8;
    // −1 is pixel 0 repeated, so pixels 0..3 get 1/2, 3/8, 1/8, 0 (and output 1 the mirror image).
    // For p(y, x) = 10y + x that is 10·E(y) + E(x) with E = 0.625 and 2.375.
    const data = Uint8Array.from({ length: 16 }, (_, i) => 10 * Math.floor(i / 4) + (i % 4));
    const image: Planar = { channels: 1, height: 4, width: 4, data };
    expectClose(rendered(image, { kind: 'resample', box: WHOLE(4, 4), flip: false }, 2, 2), [6.875, 8.625, 24.375, 26.125]);
  });

  it('enlarges bilinearly, clamping at the edges', () => {
    // 2 → 4: outputs centred at 0.25, 0.75, 1.25, 1.75 read [p0, 3/4 p0 + 1/4 p1, 1/4 p0 + 3/4 p1, p1].
    const image: Planar = { channels: 1, height: 2, width: 2, data: Uint8Array.from([0, 40, 80, 120]) };
    expectClose(rendered(image, { kind: 'resample', box: WHOLE(2, 2), flip: false }, 4, 4), [
      0, 10, 30, 40,
      20, 30, 50, 60,
      60, 70, 90, 100,
      80, 90, 110, 120,
    ]);
  });

  it('reproduces the exact pixels of a whole-image box at the same size, and mirrors them when flipping', () => {
    const image = randomImage(new Rng(3), 3, 7, 9);
    const norm = { mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3] };
    const out = { channels: 3, height: 7, width: 9 };
    for (const flip of [false, true]) {
      const copied = new Float32Array(3 * 63);
      const resampled = new Float32Array(3 * 63);
      render(image, { kind: 'copy', dy: 0, dx: 0, flip }, out, norm, copied, 0);
      render(image, { kind: 'resample', box: WHOLE(9, 7), flip }, out, norm, resampled, 0);
      expect(resampled).toEqual(copied);
    }
  });

  it('mirrors a cropped, shrunk output left to right', () => {
    const image = randomImage(new Rng(4), 3, 40, 50);
    const box = { x: 3.5, y: 2.25, width: 31, height: 27.5 };
    const norm = { mean: [0, 0, 0], std: [1, 1, 1] };
    const straight = rendered(image, { kind: 'resample', box, flip: false }, 8, 6, norm);
    const flipped = rendered(image, { kind: 'resample', box, flip: true }, 8, 6, norm);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 6; x++) expect(flipped[c * 48 + y * 6 + x]).toBe(straight[c * 48 + y * 6 + 5 - x]);
      }
    }
    expect(flipped).not.toEqual(straight);
  });

  it('replicates a gray plane into three channels, each with its own normalization', () => {
    const image = randomImage(new Rng(5), 1, 12, 10);
    const box = { x: 1, y: 0.5, width: 8, height: 11 };
    const norm = { mean: [0.1, 0.5, 0.9], std: [0.2, 0.3, 0.4] };
    const colour = new Float32Array(3 * 25);
    render(image, { kind: 'resample', box, flip: false }, { channels: 3, height: 5, width: 5 }, norm, colour, 0);
    for (let c = 0; c < 3; c++) {
      const gray = new Float32Array(25);
      render(image, { kind: 'resample', box, flip: false }, { channels: 1, height: 5, width: 5 }, { mean: [norm.mean[c]!], std: [norm.std[c]!] }, gray, 0);
      expect(colour.subarray(c * 25, (c + 1) * 25)).toEqual(gray);
    }
  });

  it('turns colour into PIL luminance, exact for a gray stored as R = G = B', () => {
    // Pixels (R, G, B): (255, 0, 0), (10, 20, 30), (77, 77, 77).
    const image: Planar = { channels: 3, height: 1, width: 3, data: Uint8Array.from([255, 10, 77, 0, 20, 77, 0, 30, 77]) };
    const expected = [76.245, 18.15, 77];
    expectClose(rendered(image, { kind: 'resample', box: WHOLE(3, 1), flip: false }, 1, 3), expected);
    expectClose(rendered(image, { kind: 'copy', dy: 0, dx: 0, flip: false }, 1, 3), expected);
    const target = new Float32Array(3);
    render(image, { kind: 'copy', dy: 0, dx: 0, flip: false }, { channels: 1, height: 1, width: 3 }, UNIT, target, 0);
    expect(target[2]).toBe(Math.fround(77 * (1 / 255)));
  });

  it('normalizes per channel after resampling, at the given offset', () => {
    const image: Planar = { channels: 1, height: 2, width: 2, data: Uint8Array.from([51, 51, 51, 51]) };
    const target = new Float32Array(6).fill(9);
    render(image, { kind: 'resample', box: WHOLE(2, 2), flip: false }, { channels: 1, height: 1, width: 1 }, { mean: [0.5], std: [0.25] }, target, 4);
    expect(Array.from(target.subarray(0, 4))).toEqual([9, 9, 9, 9]);
    expect(target[4]).toBeCloseTo((51 / 255 - 0.5) / 0.25, 6);
    expect(target[5]).toBe(9);
  });
});

describe('render, copying', () => {
  it('matches the in-memory loader\'s batches() bit for bit, with and without padding and flips, gray and colour', () => {
    for (const [channels, size, padding, seed] of [[1, 9, 0, 1], [1, 8, 2, 2], [3, 11, 3, 3], [3, 6, 0, 4], [2, 5, 1, 5]] as const) {
      const rng = new Rng(seed);
      const count = 12;
      const plane = channels * size * size;
      const pixels = new Uint8Array(count * plane);
      for (let i = 0; i < pixels.length; i++) pixels[i] = rng.nextInt(256);
      const set: ImageSet = { count, channels, height: size, width: size, pixels, labels: new Uint8Array(count) };
      const norm = channelStatistics(set);
      const indices = [5, 0, 11, 3, 3, 7, 1, 10, 2, 9, 4, 6, 8];
      const augmentation = { cropPadding: padding, horizontalFlip: padding > 0 };
      const [batch] = [...batches(set, indices, indices.length, norm, augmentation, new Rng(seed + 100))];
      // The same draws batches() makes, in its order: dy, dx, then the flip.
      const draws = new Rng(seed + 100);
      const mine = new Float32Array(indices.length * plane);
      indices.forEach((index, b) => {
        const dy = padding > 0 ? draws.nextInt(2 * padding + 1) - padding : 0;
        const dx = padding > 0 ? draws.nextInt(2 * padding + 1) - padding : 0;
        const flip = augmentation.horizontalFlip && draws.nextFloat() < 0.5;
        const image = { channels, height: size, width: size, data: pixels.subarray(index * plane, (index + 1) * plane) };
        render(image, { kind: 'copy', dy, dx, flip }, { channels, height: size, width: size }, norm, mine, b * plane);
      });
      expect(mine).toEqual(batch!.images);
    }
  });
});

describe('render, errors', () => {
  const gray: Planar = { channels: 1, height: 4, width: 4, data: new Uint8Array(16) };

  it('refuses a copy of the wrong size, an unsupported channel count and a mismatched normalization', () => {
    const target = new Float32Array(100);
    const copy = { kind: 'copy', dy: 0, dx: 0, flip: false } as const;
    expect(() => render(gray, copy, { channels: 1, height: 4, width: 5 }, UNIT, target, 0)).toThrow('copying needs a 4×5 image, got 4×4');
    const two: Planar = { channels: 2, height: 2, width: 2, data: new Uint8Array(8) };
    const norm3 = { mean: [0, 0, 0], std: [1, 1, 1] };
    expect(() => render(two, copy, { channels: 3, height: 2, width: 2 }, norm3, target, 0)).toThrow('cannot turn a 2-channel image into 3 channels');
    expect(() => render(gray, copy, { channels: 3, height: 4, width: 4 }, UNIT, target, 0)).toThrow('normalization has 1 means and 1 deviations for 3 channels');
    expect(() => render(gray, copy, { channels: 1, height: 4, width: 4 }, UNIT, target, 90)).toThrow('16 values at offset 90 do not fit a buffer of 100');
  });
});
