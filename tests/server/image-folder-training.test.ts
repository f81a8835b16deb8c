import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { loaderSettings } from '../../executors/data/loader';
import { OnnxSlimmingPlugin } from '../../executors/onnx/slim-plugin';
import { TfjsTrainingPlugin } from '../../executors/tfjs/plugin';
import { TEST_TRAINING_OPTIONS } from '../support/plugins';
import { TestServer, eventually } from '../support/server';

/** Photos as users bring them: many sizes, gray and colour, PNG and JPEG; class decides the pattern. */
function photoFolder(root: string, perClass: number): void {
  for (const split of ['train', 'test']) {
    for (const [label, name] of ['stripes', 'checks'].entries()) {
      mkdirSync(join(root, split, name), { recursive: true });
      for (let i = 0; i < perClass; i++) {
        const width = 24 + ((i * 13) % 40);
        const height = 20 + ((i * 7) % 44);
        const colour = i % 3 !== 0;
        const data = Buffer.alloc(width * height * 4);
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            const on = label === 0 ? Math.floor(y / 4) % 2 === 0 : (Math.floor(x / 4) + Math.floor(y / 4)) % 2 === 0;
            const v = on ? 220 : 30;
            data.set([v, colour ? 255 - v : v, colour ? (v + 90) % 256 : v, 255], (y * width + x) * 4);
          }
        }
        if (i % 2 === 0) {
          const png = new PNG({ width, height });
          data.copy(png.data);
          writeFileSync(join(root, split, name, `${i}.png`), PNG.sync.write(png));
        } else {
          writeFileSync(join(root, split, name, `${i}.jpg`), jpeg.encode({ width, height, data }, 92).data);
        }
      }
    }
  }
}

const CACHE_BYTES = 30_000;

describe('an image folder of mixed sizes, gray and colour', () => {
  let server: TestServer;
  let root: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'slimlab-photos-'));
    // A cache far smaller than the decoded training images: the job must still complete within it.
    const data = { ...loaderSettings(), threads: 2, cacheBytes: CACHE_BYTES };
    const plugins = [new TfjsTrainingPlugin({ ...TEST_TRAINING_OPTIONS, data }), new OnnxSlimmingPlugin({ provider: 'cpu', threads: 1, cacheFile: null, data })];
    server = await TestServer.start('sqlite', plugins, undefined, { datasetRoots: [root] });
  });

  afterAll(async () => {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const finished = (id: string) =>
    eventually(async () => {
      const { job } = await server.gql(`query($id: ID!) { job(id: $id) { state error result payload } }`, { id });
      if (job.state === 'FAILED') throw new Error(job.error);
      return job.state === 'SUCCEEDED' ? job : undefined;
    }, 240_000);

  it('registers with a manifest, trains a supernet and slims it end to end, recording the transforms', async () => {
    const folder = join(root, 'photos');
    photoFolder(folder, 16);
    const { createProject: project } = await server.gql(`mutation { createProject(input: { name: "photos" }) { id } }`);
    const progress = server.subscribe<{ datasetRegistration: { name: string; phase: string; done: number; total: number } }>(
      `subscription($p: ID!) { datasetRegistration(projectId: $p) { name phase done total } }`,
      { p: project.id },
    );
    await progress.ready;
    const { registerDataset: dataset } = await server.gql(
      `mutation($p: ID!, $path: String!) { registerDataset(input: { projectId: $p, name: "photos", format: IMAGE_FOLDER, path: $path, searchFraction: 0.25 }) {
        id inputChannels inputHeight inputWidth sizesVary trainSize manifest { kind bytes } normalization { mean images } } }`,
      { p: project.id, path: folder },
    );
    expect(dataset).toMatchObject({ inputChannels: 3, inputHeight: 20, inputWidth: 24, sizesVary: true, trainSize: 32, manifest: { kind: 'DATASET_MANIFEST' } });
    expect(dataset.normalization.mean).toHaveLength(3);
    // 64 headers read, then the statistics over the 24 training images less the hold-out.
    expect(progress.all().map((e) => e.datasetRegistration)).toContainEqual({ name: 'photos', phase: 'headers', done: 64, total: 64 });
    progress.close();
    const { createSearchSpace: space } = await server.gql(
      `mutation($p: ID!) { createSearchSpace(input: { projectId: $p, name: "tiny", architecture: "resnet-cifar", maxWidth: 0.35, inputSize: 16, numClasses: 2 }) { id } }`,
      { p: project.id },
    );
    const { trainSupernet } = await server.gql(
      `mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "sn", searchSpaceId: $s, datasetId: $d, recipe: { epochs: 1, batchSize: 8, cropScaleMin: 0.3 } }) { id payload } }`,
      { s: space.id, d: dataset.id },
    );
    const trained = await finished(trainSupernet.id);
    expect(trained.result.transforms).toMatchObject({
      input: '16×16',
      train: expect.stringContaining('random-resized-crop to 16×16 (area 0.3–1'),
      eval: 'resize shorter side to 18, centre crop 16×16 (ratio 0.875)',
      channels: 'colour',
    });
    // 24 images of up to 63×63×3 bytes decoded each epoch and for the held-out scores: far more than the cache.
    expect(trained.result.cache).toMatchObject({ limitBytes: CACHE_BYTES, evictions: expect.any(Number) });
    expect(trained.result.cache.evictions).toBeGreaterThan(0);
    expect(trained.result.cache.peakBytes).toBeLessThanOrEqual(CACHE_BYTES);
    const { supernet } = await server.gql(`query($id: ID!) { supernet(id: $id) { run { recipe } } }`, { id: trainSupernet.payload.supernetId });
    expect(supernet.run.recipe).toMatchObject({ cropScaleMin: 0.3, evalCropRatio: 0.875, horizontalFlip: true });
    const { startSlimming } = await server.gql(`mutation($s: ID!) { startSlimming(input: { supernetId: $s, targets: [1e6], evalBatchSize: 8 }) { id } }`, {
      s: trainSupernet.payload.supernetId,
    });
    const slimmed = await finished(startSlimming.id);
    expect(slimmed.result.steps).toBeGreaterThan(0);
  });
});
