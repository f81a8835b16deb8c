/**
 * Throughput of the streaming data loader (executors/data/loader.ts) against training: a generated
 * IMAGE_FOLDER of 50,000 colour JPEGs at 96×96 (plus 1,000 test images, 10 classes) is registered,
 * then read as a training job reads it — random-resized-crop to 32×32, random flip, normalization,
 * batches of 256 — with 1 and 2 decoder threads, against the training throughput of the benchmark
 * net (mbv2-fmnist 1.0x, batch 64, as bench/train.ts measures it, measured here in-process after
 * the loader runs). Each thread count loads in a fresh process of its own (as a job's worker
 * would), whose RSS is sampled every 50 ms while its loader runs.
 *
 *   npm run bench:data -- [--images 20000] [--repeats 3] [--train-steps 8]
 *
 * It runs compiled (dist/), as the server does: from sources every decoder thread would first load
 * a TypeScript loader, which costs memory the measured RSS should not include.
 *
 * SLIMLAB_DATA_CACHE_MB sets the decoded-image cache (256 MB by default here). The folder is made
 * once under os.tmpdir()/slimlab-bench-data-50k (in a child process, so that its garbage does not
 * count in this process's RSS) and reused while complete. The last line is one JSON object.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runInThisContext } from 'node:vm';
import * as tf from '@tensorflow/tfjs-core';
import { buildGraph, defaultChannels, profileGraph } from '../autoslim';
import { DEFAULT_TRANSFORMS, loaderSettings, openDataset, type LoaderSettings } from '../executors/data/loader';
import { registerFolder } from '../executors/data/manifest-build';
import { encodeManifest, manifestSha256 } from '../executors/data/manifest';
import type { RegisteredDatasetSpec } from '../executors/data/source';
import { searchSplit, splitDigest } from '../executors/data/split';
import { Rng } from '../executors/rng';
import { selectTrainingBackend } from '../executors/tfjs/backend';
import { chooseWorkers } from '../executors/tfjs/parallel/worker_count';
import { NesterovSgd } from '../executors/tfjs/sgd';
import { startStepEngine } from '../executors/tfjs/step_engine';
import { SlimmableNetwork } from '../executors/tfjs/supernet';
import { flag, round } from './numbers';

const TRAIN_IMAGES = 50_000;
const TEST_IMAGES = 1_000;
const CLASSES = 10;
const SIZE = 96;
const CROP = 32;
const BATCH = 256;
const QUALITY = 90;
const SEARCH_FRACTION = 0.1;
const SPLIT_SEED = 7;
const FOLDER = join(tmpdir(), 'slimlab-bench-data-50k');
const MARKER = join(FOLDER, 'complete.json');
const THREADS = [1, 2] as const;
const MB = 2 ** 20;

// ---------------------------------------------------------------------------------------------
// The image folder.

interface JpegEncoder {
  encode(image: { data: Uint8Array; width: number; height: number }, quality?: number): Buffer;
}

/**
 * jpeg-js's encoder. Its `encode()` builds a new encoder, tables and all, for every image, which
 * costs ~200 ms here, 51,000 times; the encoder itself is not exported, so its source is run once
 * to reach the constructor and one instance encodes every image (same bytes as `encode()`).
 */
function jpegEncoder(quality: number): JpegEncoder {
  const path = require.resolve('jpeg-js/lib/encoder.js');
  const wrapped = runInThisContext(`(function (module, exports, require) {${readFileSync(path, 'utf8')}\nreturn JPEGEncoder;\n})`, { filename: path }) as (
    module: { exports: unknown },
    exports: unknown,
    req: NodeRequire,
  ) => new (quality: number) => JpegEncoder;
  const module = { exports: {} };
  const Encoder = wrapped(module, module.exports, require);
  return new Encoder(quality);
}

/**
 * A smooth but not trivially compressible colour image: per channel a class-tinted base plus a few
 * random low-frequency waves, and a little pixel noise, all from a generator seeded by the image.
 */
function makeImage(encoder: JpegEncoder, seed: number, label: number): Buffer {
  const rng = new Rng(seed >>> 0);
  const rgba = Buffer.alloc(SIZE * SIZE * 4);
  const waves = Array.from({ length: 3 }, () =>
    Array.from({ length: 4 }, () => ({
      fx: (rng.nextFloat() * 6 + 0.5) / SIZE,
      fy: (rng.nextFloat() * 6 + 0.5) / SIZE,
      phase: rng.nextFloat() * 2 * Math.PI,
      amp: 20 + rng.nextFloat() * 30,
    })),
  );
  const base = [0, 1, 2].map((c) => 60 + ((label * 37 + c * 71) % 140));
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const p = (y * SIZE + x) * 4;
      for (let c = 0; c < 3; c++) {
        let v = base[c]!;
        for (const w of waves[c]!) v += w.amp * Math.sin(2 * Math.PI * (w.fx * x + w.fy * y) + w.phase);
        v += (rng.nextFloat() - 0.5) * 16;
        rgba[p + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
      rgba[p + 3] = 255;
    }
  }
  return encoder.encode({ data: rgba, width: SIZE, height: SIZE });
}

/** Writes every `parts`-th image from `part` on: each image has its own seed, so parts may run side by side. */
async function generatePart(part: number, parts: number): Promise<void> {
  const encoder = jpegEncoder(QUALITY);
  let bytes = 0;
  for (const [split, count, seedBase] of [['train', TRAIN_IMAGES, 0], ['test', TEST_IMAGES, 1_000_000]] as const) {
    for (let c = 0; c < CLASSES; c++) await mkdir(join(FOLDER, split, `class${c}`), { recursive: true });
    for (let n = part; n < count; n += parts) {
      const label = n % CLASSES;
      const data = makeImage(encoder, 20240607 + seedBase + n, label);
      bytes += data.length;
      await writeFile(join(FOLDER, split, `class${label}`, `${Math.floor(n / CLASSES)}.jpg`), data);
      if (part === 0 && (n + parts) % 5_000 < parts) console.log(`  generated ~${n + parts} ${split} images`);
    }
  }
  console.log(`BYTES ${bytes}`);
}

async function folderComplete(): Promise<{ bytes: number } | null> {
  if (!existsSync(MARKER)) return null;
  const marker = JSON.parse(await readFile(MARKER, 'utf8')) as { train: number; test: number; size: number; quality: number; bytes: number };
  const ok = marker.train === TRAIN_IMAGES && marker.test === TEST_IMAGES && marker.size === SIZE && marker.quality === QUALITY;
  return ok ? { bytes: marker.bytes } : null;
}

/**
 * Makes the folder in child processes, one per core, so that the encoder's garbage is not this
 * process's RSS; the marker is written once every part has finished.
 */
async function ensureFolder(): Promise<{ bytes: number; generatedSeconds: number | null }> {
  const found = await folderComplete();
  if (found) return { ...found, generatedSeconds: null };
  console.log(`generating ${TRAIN_IMAGES} + ${TEST_IMAGES} JPEGs at ${SIZE}×${SIZE} in ${FOLDER}`);
  await rm(FOLDER, { recursive: true, force: true });
  const start = performance.now();
  const parts = Math.max(1, availableParallelism());
  const outputs = await Promise.all(
    Array.from({ length: parts }, (_, part) =>
      new Promise<string>((done, fail) => {
        const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, '--generate', String(part), String(parts)], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (part === 0) process.stdout.write(chunk.toString().replace(/^BYTES \d+\n/m, ''));
        });
        child.on('error', fail);
        child.on('exit', (code, signal) => (code === 0 ? done(out) : fail(new Error(`generating part ${part} of the image folder failed (${code ?? signal})`))));
      }),
    ),
  );
  const bytes = outputs.reduce((sum, out) => sum + Number(/BYTES (\d+)/.exec(out)?.[1] ?? NaN), 0);
  await writeFile(MARKER, JSON.stringify({ train: TRAIN_IMAGES, test: TEST_IMAGES, size: SIZE, quality: QUALITY, bytes }));
  return { bytes, generatedSeconds: round((performance.now() - start) / 1000) };
}

// ---------------------------------------------------------------------------------------------
// RSS sampling.

class RssSampler {
  peak = process.memoryUsage().rss;
  private readonly timer: NodeJS.Timeout;
  constructor() {
    this.timer = setInterval(() => this.sample(), 50);
  }
  sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage().rss);
  }
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

// ---------------------------------------------------------------------------------------------
// Loading.

interface ThreadResult {
  readonly runs: number[];
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly cachePeakBytes: number;
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
  readonly skippedCorrupt: number;
}

async function readEpochs(spec: RegisteredDatasetSpec, manifestBytes: Buffer, settings: LoaderSettings, images: number, repeats: number): Promise<ThreadResult> {
  const dataset = await openDataset(spec, { channels: 3, height: CROP, width: CROP }, DEFAULT_TRANSFORMS, settings, async () => manifestBytes, { train: true, test: false });
  const runs: number[] = [];
  try {
    for (let r = 0; r < repeats; r++) {
      // A fresh shuffle each time, as each epoch of a training job is; the first `images` of it.
      const order = new Rng(1000 + r).permutation(dataset.train.count).subarray(0, Math.min(images, dataset.train.count));
      const rng = new Rng(2000 + r);
      let seen = 0;
      const start = performance.now();
      for await (const batch of dataset.train.batches(order, BATCH, { augment: { rng } })) {
        if (batch.images.length !== batch.size * 3 * CROP * CROP) throw new Error(`a batch of ${batch.size} came with ${batch.images.length} values`);
        seen += batch.size;
      }
      const seconds = (performance.now() - start) / 1000;
      runs.push(round(seen / seconds));
    }
    const stats = await dataset.stats();
    const sorted = [...runs].sort((a, b) => a - b);
    return {
      runs,
      median: sorted[Math.floor(sorted.length / 2)]!,
      min: sorted[0]!,
      max: sorted[sorted.length - 1]!,
      cachePeakBytes: stats.peakBytes,
      hits: stats.hits,
      misses: stats.misses,
      evictions: stats.evictions,
      skippedCorrupt: stats.skippedCorrupt,
    };
  } finally {
    await dataset.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Training throughput of the benchmark net, as bench/train.ts measures `images_per_s`.

async function trainingImagesPerSecond(steps: number): Promise<{ imagesPerS: number; backend: string; workers: number }> {
  const batch = 64;
  const opts = { inputSize: 28, numClasses: 10 };
  const choice = await selectTrainingBackend((line) => console.log(`  ${line}`));
  const graph = buildGraph('mbv2-fmnist', defaultChannels('mbv2-fmnist', 1.0, opts), opts);
  const work = { backend: tf.getBackend(), batchSize: batch, macs: batch * profileGraph(graph).macs };
  const parallel = chooseWorkers('auto', work);
  const network = new SlimmableNetwork(graph, 1);
  const optimizer = new NesterovSgd(network.trainable);
  const { engine } = await startStepEngine(parallel.workers, network, optimizer, work);
  const images = tf.randomNormal([batch, 28, 28, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
  const labels = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'int32');
  const signal = new AbortController().signal;
  const times: number[] = [];
  const warmup = 3;
  try {
    for (let i = 0; i < warmup + steps; i++) {
      const start = performance.now();
      await engine.step([graph], { images, labels }, 0.05, { labelSmoothing: 0.1, distillation: 'off' }, signal);
      if (i >= warmup) times.push((performance.now() - start) / 1000);
    }
  } finally {
    await engine.dispose();
    tf.dispose([images, labels]);
    optimizer.dispose();
    network.dispose();
  }
  times.sort((a, b) => a - b);
  return { imagesPerS: round(batch / times[Math.floor(times.length / 2)]!), backend: choice.backend, workers: parallel.workers };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const loadStart = loadavg().map((v) => round(v, 2));
  const images = flag('--images', 20_000);
  const repeats = flag('--repeats', 3);
  const trainSteps = flag('--train-steps', 8);
  const cacheMb = Number(process.env.SLIMLAB_DATA_CACHE_MB || 256);
  const base = loaderSettings({ ...process.env, SLIMLAB_DATA_CACHE_MB: String(cacheMb) });

  const folder = await ensureFolder();
  console.log(
    `folder ${FOLDER}: ${TRAIN_IMAGES} + ${TEST_IMAGES} JPEGs ${SIZE}×${SIZE} q${QUALITY}, ${round(folder.bytes / MB)} MB` +
      (folder.generatedSeconds === null ? ' (reused)' : `, generated in ${folder.generatedSeconds} s`),
  );

  const total = new RssSampler();
  const regStart = performance.now();
  const registered = await registerFolder('IMAGE_FOLDER', FOLDER, base.limits, { searchFraction: SEARCH_FRACTION, splitSeed: SPLIT_SEED, skipCorrupt: false });
  const registrationSeconds = round((performance.now() - regStart) / 1000, 2);
  const registrationRssMb = round(total.peak / MB);
  console.log(`registered in ${registrationSeconds} s (headers of ${TRAIN_IMAGES + TEST_IMAGES} files, statistics over a sample)`);
  const manifestBytes = encodeManifest(registered.manifest);
  const sha256 = manifestSha256(manifestBytes);
  const spec: RegisteredDatasetSpec = {
    id: 'bench-data-50k',
    format: 'IMAGE_FOLDER',
    uri: FOLDER,
    inputChannels: 3,
    inputHeight: CROP,
    numClasses: CLASSES,
    trainSize: registered.manifest.train.labels.length,
    testSize: registered.manifest.test.labels.length,
    searchFraction: SEARCH_FRACTION,
    splitSeed: SPLIT_SEED,
    splitDigest: splitDigest(searchSplit(registered.manifest.train.labels.length, SEARCH_FRACTION, SPLIT_SEED), sha256),
    manifest: { uri: 'bench://data-50k/manifest', sha256 },
    normalization: registered.normalization,
    skipCorrupt: false,
  };

  total.stop();
  // Each thread count loads in a process of its own, as a job's worker would: what one
  // configuration leaves in the allocator must not count against the next.
  const specFile = join(tmpdir(), `slimlab-bench-data-spec-${process.pid}.json`);
  await writeFile(specFile, JSON.stringify({ spec, manifest: manifestBytes.toString('base64') }));
  const results: Record<string, ThreadResult> = {};
  const peakByThreads: Record<string, number> = {};
  const rssBeforeByThreads: Record<string, number> = {};
  try {
    for (const threads of THREADS) {
      console.log(`reading ${images} training images (of ${spec.trainSize - Math.round(spec.trainSize * SEARCH_FRACTION)} in an epoch) ×${repeats}, ${threads} decoder thread(s), in a fresh process…`);
      const measured = await measureInChild(threads, specFile, images, repeats, cacheMb);
      results[threads] = measured.result;
      peakByThreads[threads] = measured.peakRssMb;
      rssBeforeByThreads[threads] = measured.rssBeforeMb;
      console.log(`  ${measured.result.runs.join(', ')} images/s; peak RSS ${measured.peakRssMb} MB (${measured.rssBeforeMb} MB before opening the dataset)`);
    }
  } finally {
    await rm(specFile, { force: true });
  }
  const peakRssMb = Math.max(...Object.values(peakByThreads));
  const rssBeforeLoadingMb = Math.max(...Object.values(rssBeforeByThreads));
  const cachePeakMb = round(Math.max(...Object.values(results).map((r) => r.cachePeakBytes)) / MB);

  console.log(`training throughput of the benchmark net (mbv2-fmnist 1.0x, batch 64, ${trainSteps} timed steps)…`);
  const training = await trainingImagesPerSecond(trainSteps);
  const ratio = (threads: number) => round(results[threads]!.median / training.imagesPerS, 2);
  const loadEnd = loadavg().map((v) => round(v, 2));

  console.log('');
  console.log(`decode + random-resized-crop ${SIZE}→${CROP} + flip + normalize, batch ${BATCH}, ${images} images a run, ${repeats} runs, cache ${cacheMb} MB`);
  const row = (a: string, b: string, c: string, d: string, e: string, f: string) =>
    console.log(`  ${a.padEnd(30)} ${b.padStart(9)} ${c.padStart(11)} ${d.padStart(9)} ${e.padStart(16)} ${f.padStart(13)}`);
  row('', 'images/s', 'range', 'vs train', 'cache hits/miss', 'peak RSS MB');
  for (const threads of THREADS) {
    const r = results[threads]!;
    row(`${threads} decoder thread(s)`, r.median.toFixed(0), `${r.min.toFixed(0)}–${r.max.toFixed(0)}`, `${ratio(threads).toFixed(2)}x`, `${r.hits}/${r.misses}`, peakByThreads[threads]!.toFixed(1));
  }
  row(`training (${training.backend}, ${training.workers} worker(s))`, training.imagesPerS.toFixed(0), '', '', '', '');
  console.log(`  peak RSS while loading ${peakRssMb} MB (before opening ${rssBeforeLoadingMb} MB; after registration ${registrationRssMb} MB); cache limit ${cacheMb} MB, cache peak ${cachePeakMb} MB`);
  console.log(`  registration ${registrationSeconds} s; load average ${loadStart.join(' ')} → ${loadEnd.join(' ')}`);

  const threadsJson = Object.fromEntries(THREADS.map((t) => [String(t), { median: results[t]!.median, min: results[t]!.min, max: results[t]!.max }]));
  console.log(
    JSON.stringify({
      images: TRAIN_IMAGES,
      size: SIZE,
      crop: CROP,
      imagesPerRun: images,
      runs: repeats,
      threads: threadsJson,
      trainImagesPerS: training.imagesPerS,
      trainBackend: training.backend,
      trainWorkers: training.workers,
      ratio1: ratio(1),
      ratio2: ratio(2),
      peakRssMb,
      peakRssMbByThreads: peakByThreads,
      cacheLimitMb: cacheMb,
      cachePeakMb,
      goalDecode: Math.max(ratio(1), ratio(2)) >= 2,
      goalDecode1: ratio(1) >= 2,
      goalDecode2: ratio(2) >= 2,
      goalRss: peakRssMb <= cacheMb + 400,
      loadAverage: { start: loadStart, end: loadEnd },
      registrationSeconds,
    }),
  );
}

interface Measured {
  readonly result: ThreadResult;
  readonly peakRssMb: number;
  readonly rssBeforeMb: number;
}

function measureInChild(threads: number, specFile: string, images: number, repeats: number, cacheMb: number): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const args = [...process.execArgv, process.argv[1]!, '--measure', String(threads), specFile, String(images), String(repeats)];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, SLIMLAB_DATA_CACHE_MB: String(cacheMb) } });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`the ${threads}-thread measurement exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Measured);
    });
  });
}

/** The child's side: opens the dataset the parent registered and reads it, sampling its own RSS. */
async function measure(threads: number, specFile: string, images: number, repeats: number): Promise<void> {
  const { spec, manifest } = JSON.parse(await readFile(specFile, 'utf8')) as { spec: RegisteredDatasetSpec; manifest: string };
  const rss = new RssSampler();
  const rssBeforeMb = round(rss.peak / MB);
  const result = await readEpochs(spec, Buffer.from(manifest, 'base64'), { ...loaderSettings(), threads }, images, repeats);
  console.log(JSON.stringify({ result, peakRssMb: round(rss.stop() / MB), rssBeforeMb } satisfies Measured));
}

const generating = process.argv.indexOf('--generate');
const measuring = process.argv.indexOf('--measure');
if (measuring >= 0) {
  const [threads, specFile, images, repeats] = process.argv.slice(measuring + 1);
  measure(Number(threads), specFile!, Number(images), Number(repeats)).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
} else if (generating >= 0) {
  generatePart(Number(process.argv[generating + 1]), Number(process.argv[generating + 2])).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
} else {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
