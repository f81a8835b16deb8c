/**
 * What a decoder thread makes of one decoded image: the crop to take (torchvision's parameters, so
 * recipes carry over) and the normalized floats it becomes in a batch. No I/O: the caller owns the
 * generator and the batch buffer.
 */
import type { Rng } from '../rng';
import type { Box, ImageShape, Normalization, Planar, SamplePlan } from './sample';

/**
 * torchvision's RandomResizedCrop.get_params, draw for draw, so a seeded run sees the same crops
 * every time. Each of up to ten attempts draws nextFloat() for the area fraction, then nextFloat()
 * for the log aspect ratio; the first crop that fits then draws nextInt() for y, then nextInt() for
 * x. If none fits, the centre crop draws nothing.
 */
export function randomResizedCrop(
  rng: Rng,
  width: number,
  height: number,
  scale: readonly [number, number],
  ratio: readonly [number, number],
): Box {
  checkImageSize(width, height);
  if (!(scale[0] > 0 && scale[0] <= scale[1])) throw new Error(`crop scale must satisfy 0 < min <= max, got [${scale.join(', ')}]`);
  if (!(ratio[0] > 0 && ratio[0] <= ratio[1])) throw new Error(`crop ratio must satisfy 0 < min <= max, got [${ratio.join(', ')}]`);
  const area = width * height;
  const logLow = Math.log(ratio[0]);
  const logHigh = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * (scale[0] + rng.nextFloat() * (scale[1] - scale[0]));
    const aspect = Math.exp(logLow + rng.nextFloat() * (logHigh - logLow));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const y = rng.nextInt(height - h + 1);
      const x = rng.nextInt(width - w + 1);
      return { x, y, width: w, height: h };
    }
  }
  // torchvision could round a side to zero here for extreme ratios; one pixel keeps the box usable.
  let w = width;
  let h = height;
  if (width / height < ratio[0]) h = Math.max(1, roundHalfEven(width / ratio[0]));
  else if (width / height > ratio[1]) w = Math.max(1, roundHalfEven(height * ratio[1]));
  return { x: Math.floor((width - w) / 2), y: Math.floor((height - h) / 2), width: w, height: h };
}

/**
 * The part of a width × height image that torchvision's evaluation transform, Resize(floor(side /
 * ratio)) of the shorter side then CenterCrop(out), keeps, so one resample does both. Edges may be
 * fractional: this crops the continuously resized image rather than torchvision's rounded one.
 */
export function centreCrop(width: number, height: number, out: { height: number; width: number }, ratio: number): Box {
  checkImageSize(width, height);
  if (!(ratio > 0 && ratio <= 1)) throw new Error(`centre crop ratio must be in (0, 1], got ${ratio}`);
  const resized = Math.floor(Math.min(out.height, out.width) / ratio);
  const scale = Math.min(width, height) / resized;
  const boxWidth = out.width * scale;
  const boxHeight = out.height * scale;
  return { x: (width - boxWidth) / 2, y: (height - boxHeight) / 2, width: boxWidth, height: boxHeight };
}

/**
 * Writes `image` as planned into `target` at `offset`: out.channels planes of out.height × out.width
 * normalized floats. A gray image feeds every channel of a colour output; a colour image becomes
 * gray by PIL's "L" luminance, unrounded.
 */
export function render(
  image: Planar,
  plan: SamplePlan,
  out: ImageShape,
  norm: Normalization,
  target: Float32Array,
  offset: number,
): void {
  const luminance = image.channels === 3 && out.channels === 1;
  if (image.channels !== out.channels && image.channels !== 1 && !luminance) {
    throw new Error(`cannot turn a ${image.channels}-channel image into ${out.channels} channels`);
  }
  if (image.data.length !== image.channels * image.height * image.width) {
    throw new Error(`a ${image.channels}×${image.height}×${image.width} image cannot hold ${image.data.length} bytes`);
  }
  if (norm.mean.length !== out.channels || norm.std.length !== out.channels) {
    throw new Error(`normalization has ${norm.mean.length} means and ${norm.std.length} deviations for ${out.channels} channels`);
  }
  const size = out.channels * out.height * out.width;
  if (!Number.isInteger(offset) || offset < 0 || offset + size > target.length) {
    throw new Error(`${size} values at offset ${offset} do not fit a buffer of ${target.length}`);
  }
  if (plan.kind === 'copy') copy(image, plan.dy, plan.dx, plan.flip, out, norm, target, offset, luminance);
  else resample(image, plan.box, plan.flip, out, norm, target, offset, luminance);
}

function copy(
  image: Planar,
  dy: number,
  dx: number,
  flip: boolean,
  out: ImageShape,
  norm: Normalization,
  target: Float32Array,
  offset: number,
  luminance: boolean,
): void {
  const { height, width, data } = image;
  if (height !== out.height || width !== out.width) {
    throw new Error(`copying needs a ${out.height}×${out.width} image, got ${height}×${width}`);
  }
  const plane = height * width;
  for (let c = 0; c < out.channels; c++) {
    const source = image.channels === 1 ? 0 : c * plane;
    const base = offset + c * plane;
    const scale = normScale(norm, c);
    const shift = normShift(norm, c);
    // Flip first, then shift, as the in-memory loader did (tests/support/reference-loader.ts), so a seeded run gets the same pixels.
    for (let y = 0; y < height; y++) {
      const sy = y + dy;
      for (let x = 0; x < width; x++) {
        const sx = (flip ? width - 1 - x : x) + dx;
        const inside = sy >= 0 && sy < height && sx >= 0 && sx < width;
        // Padding is black in pixel space, i.e. normalized zero-intensity.
        const pixel = inside ? valueAt(data, source + sy * width + sx, plane, luminance) : 0;
        target[base + y * width + x] = pixel * scale - shift;
      }
    }
  }
}

/**
 * Resizes `box` to the output size with PIL's BILINEAR filter: a triangle widened to the scale
 * factor when shrinking, so every source pixel counts (antialiasing). Unlike PIL, taps that fall
 * outside the image read its edge pixel instead of being dropped, so a box touching the border is
 * not pulled towards its interior. Values stay float; nothing is rounded to bytes in between.
 */
function resample(
  image: Planar,
  box: Box,
  flip: boolean,
  out: ImageShape,
  norm: Normalization,
  target: Float32Array,
  offset: number,
  luminance: boolean,
): void {
  if (![box.x, box.y, box.width, box.height].every(Number.isFinite) || !(box.width > 0 && box.height > 0)) {
    throw new Error(`cannot resample the box ${JSON.stringify(box)}`);
  }
  const columns = filterTaps(box.x, box.width, out.width, image.width);
  const rows = filterTaps(box.y, box.height, out.height, image.height);
  // Only the source rows some output row reads are filtered horizontally.
  const firstRow = rows.first[0]!;
  const rowCount = rows.first[out.height - 1]! + rows.count[out.height - 1]! - firstRow;
  const scratch = new Float32Array(rowCount * out.width);
  const sums = new Float64Array(out.width);
  const plane = image.height * image.width;
  const outPlane = out.height * out.width;
  for (let c = 0; c < out.channels; c++) {
    // A gray image feeds every output channel from one plane: filter its rows once.
    if (c === 0 || image.channels !== 1) {
      const source = (image.channels === 1 ? 0 : c * plane) + firstRow * image.width;
      filterRows(image.data, source, plane, image.width, luminance, columns, rowCount, out.width, scratch);
    }
    filterColumns(scratch, firstRow, rows, out, flip, normScale(norm, c), normShift(norm, c), sums, target, offset + c * outPlane);
  }
}

/** For each output index, the consecutive source indices it reads and their weights, `stride` per output. */
interface Taps {
  readonly first: Int32Array;
  readonly count: Int32Array;
  readonly weights: Float64Array;
  readonly stride: number;
}

/** The triangle filter along one axis: output j covers [origin + j·step, origin + (j+1)·step) of source pixels. */
function filterTaps(origin: number, extent: number, outSize: number, inSize: number): Taps {
  const step = extent / outSize;
  const support = Math.max(1, step);
  // An open interval of length 2·support holds at most ceil(2·support) integers; one more absorbs rounding.
  const stride = Math.min(inSize, Math.ceil(2 * support) + 1);
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * stride);
  for (let j = 0; j < outSize; j++) {
    const centre = origin + (j + 0.5) * step;
    // Source pixel k covers [k, k+1), so its weight is taken at its centre k + 0.5.
    const low = Math.floor(centre - support - 0.5) + 1;
    const high = Math.ceil(centre + support - 0.5) - 1;
    const start = clamp(low, inSize);
    const row = j * stride;
    let total = 0;
    for (let k = low; k <= high; k++) {
      const weight = Math.max(0, 1 - Math.abs((k + 0.5 - centre) / support));
      weights[row + clamp(k, inSize) - start] += weight;
      total += weight;
    }
    first[j] = start;
    count[j] = clamp(high, inSize) - start + 1;
    for (let t = 0; t < count[j]!; t++) weights[row + t] /= total;
  }
  return { first, count, weights, stride };
}

function filterRows(
  data: Uint8Array,
  source: number,
  plane: number,
  width: number,
  luminance: boolean,
  columns: Taps,
  rowCount: number,
  outWidth: number,
  scratch: Float32Array,
): void {
  const { first, count, weights, stride } = columns;
  for (let r = 0; r < rowCount; r++) {
    const row = source + r * width;
    for (let x = 0; x < outWidth; x++) {
      const from = row + first[x]!;
      const taps = count[x]!;
      const w = x * stride;
      let sum = 0;
      for (let t = 0; t < taps; t++) sum += weights[w + t]! * valueAt(data, from + t, plane, luminance);
      scratch[r * outWidth + x] = sum;
    }
  }
}

function filterColumns(
  scratch: Float32Array,
  firstRow: number,
  rows: Taps,
  out: ImageShape,
  flip: boolean,
  scale: number,
  shift: number,
  sums: Float64Array,
  target: Float32Array,
  base: number,
): void {
  const { first, count, weights, stride } = rows;
  const outWidth = out.width;
  for (let y = 0; y < out.height; y++) {
    sums.fill(0);
    const taps = count[y]!;
    for (let t = 0; t < taps; t++) {
      const weight = weights[y * stride + t]!;
      const line = (first[y]! - firstRow + t) * outWidth;
      for (let x = 0; x < outWidth; x++) sums[x] += weight * scratch[line + x]!;
    }
    const into = base + y * outWidth;
    for (let x = 0; x < outWidth; x++) target[into + (flip ? outWidth - 1 - x : x)] = sums[x]! * scale - shift;
  }
}

/** The pixel at `i` of a plane, or with `luminance` the "L" of the three planes starting there (a gray R=G=B stays exact). */
function valueAt(data: Uint8Array, i: number, plane: number, luminance: boolean): number {
  return luminance ? (data[i]! * 299 + data[i + plane]! * 587 + data[i + 2 * plane]! * 114) / 1000 : data[i]!;
}

/* Written exactly as the in-memory loader computed them, so the copy path matches it bit for bit. */
function normScale(norm: Normalization, c: number): number {
  return 1 / (255 * norm.std[c]!);
}

function normShift(norm: Normalization, c: number): number {
  return norm.mean[c]! / norm.std[c]!;
}

/** Python's round(), which torchvision uses: halves go to the even neighbour. */
function roundHalfEven(value: number): number {
  const rounded = Math.round(value);
  return rounded - value === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
}

function clamp(index: number, size: number): number {
  return Math.min(size - 1, Math.max(0, index));
}

function checkImageSize(width: number, height: number): void {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new Error(`image size must be positive integers, got ${width}×${height}`);
  }
}
