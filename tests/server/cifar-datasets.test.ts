import { mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { searchSplit, splitDigest } from '../../executors/data/split';
import { TfjsTrainingPlugin } from '../../executors/tfjs/plugin';
import { writeCifarDataset } from '../support/cifar';
import { DATABASES } from '../support/databases';
import { TEST_TRAINING_OPTIONS } from '../support/plugins';
import { subset } from '../support/reference-loader';
import { TestServer, eventually } from '../support/server';
import { readSplits } from '../support/streamed';

const INPUT = { channels: 3, height: 32, width: 32 };
const FIELDS = 'id format folder inputChannels inputHeight inputWidth numClasses classNames trainSize testSize searchSize searchFraction splitSeed splitDigest manifest { sha256 }';
const REGISTER = `mutation($p: ID!, $n: String!, $path: String!, $f: Float!, $s: Int!) {
  registerDataset(input: { projectId: $p, name: $n, format: CIFAR, path: $path, searchFraction: $f, splitSeed: $s }) { ${FIELDS} } }`;

describe.each(DATABASES)('CIFAR datasets on %s', (kind) => {
  let server: TestServer;
  let root: string;
  let projectId: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'slimlab-cifar-root-'));
    server = await TestServer.start(kind, [], undefined, { datasetRoots: [root] });
    ({ createProject: { id: projectId } } = await server.gql(`mutation { createProject(input: { name: "cifar" }) { id } }`));
  });

  afterAll(async () => {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const register = (name: string, path: string, searchFraction = 0.1, splitSeed = 0) =>
    server.gql(REGISTER, { p: projectId, n: name, path, f: searchFraction, s: splitSeed }).then((answer) => answer.registerDataset);

  it('registers CIFAR-10 from its archive folder, and jobs load exactly the images and labels of the files', async () => {
    const cifar = writeCifarDataset(10, { subfolder: true, classNamesFile: true, parent: root });
    const dataset = await register('cifar10', cifar.root, 0.2, 9);
    expect(dataset).toMatchObject({
      format: 'CIFAR',
      folder: basename(cifar.root),
      inputChannels: 3,
      inputHeight: 32,
      inputWidth: 32,
      numClasses: 10,
      classNames: cifar.classNames,
      trainSize: 30,
      testSize: 10,
      searchSize: 6,
    });
    const split = searchSplit(30, 0.2, 9);
    // The registered digest covers the hold-out's indices and the sample manifest.
    expect(dataset.splitDigest).toBe(splitDigest(split, dataset.manifest.sha256));

    // What a job is handed: the stored dataset's spec, and its manifest from the server's store.
    const job = await server.jobDataset(dataset.id);
    const loaded = await readSplits(job, INPUT);
    expect(loaded.train).toEqual(subset(cifar.expected.train, split.trainIndices));
    expect(loaded.search).toEqual(subset(cifar.expected.train, split.searchIndices));
    expect(loaded.test).toEqual(cifar.expected.test);
    await expect(readSplits({ ...job, spec: { ...job.spec, splitSeed: 10 } }, INPUT)).rejects.toThrow(/does not match the one made when it was registered/);
  });

  it('registers CIFAR-100 by its fine labels, with the class names of fine_label_names.txt', async () => {
    const cifar = writeCifarDataset(100, { classNamesFile: true, parent: root });
    const dataset = await register('cifar100', cifar.root);
    expect(dataset).toMatchObject({ format: 'CIFAR', numClasses: 100, classNames: cifar.classNames, trainSize: 30, testSize: 10, inputChannels: 3 });
    expect((await readSplits(await server.jobDataset(dataset.id), INPUT)).test).toEqual(cifar.expected.test);
    // Without the names file, there are no class names unless the caller gives them.
    const bare = writeCifarDataset(100, { parent: root });
    expect((await register('cifar100-bare', bare.root)).classNames).toBeNull();
  });

  /** Registers `path`, expecting BAD_USER_INPUT on input.path with `message`, and nothing stored. */
  async function refused(path: string, message: string): Promise<void> {
    const before = (await server.gql(`query($p: ID!) { datasets(projectId: $p) { id } }`, { p: projectId })).datasets;
    const error = await server.gqlError(REGISTER, { p: projectId, n: 'refused', path, f: 0.1, s: 0 });
    expect(error).toMatchObject({ message: `input.path: ${message}`, extensions: { code: 'BAD_USER_INPUT', field: 'input.path' } });
    expect(error.message).not.toContain(root);
    expect((await server.gql(`query($p: ID!) { datasets(projectId: $p) { id } }`, { p: projectId })).datasets).toEqual(before);
  }

  it('refuses a truncated file, a label out of range and a missing test file, naming the file', async () => {
    const truncated = writeCifarDataset(10, { subfolder: true, parent: root });
    truncateSync(join(truncated.files, 'data_batch_3.bin'), 6 * 3073 - 100);
    await refused(
      truncated.root,
      'cifar-10-batches-bin/data_batch_3.bin holds 18338 bytes, not a whole number of 3073-byte CIFAR-10 records (5 and 2973 bytes over); is it truncated?',
    );

    const label = writeCifarDataset(10, { parent: root });
    const test = readFileSync(join(label.files, 'test_batch.bin'));
    test[4 * 3073] = 10;
    writeFileSync(join(label.files, 'test_batch.bin'), test);
    await refused(label.root, 'test_batch.bin has label 10 in record 4; CIFAR-10 labels are 0 to 9');

    const missing = writeCifarDataset(100, { parent: root });
    rmSync(join(missing.files, 'test.bin'));
    await refused(missing.root, 'missing test.bin; CIFAR-100 needs train.bin and test.bin');

    const linked = writeCifarDataset(100, { parent: root });
    rmSync(join(linked.files, 'train.bin'));
    symlinkSync('/dev/zero', join(linked.files, 'train.bin'));
    await refused(linked.root, 'train.bin is a symbolic link');
  });
});

describe('training on CIFAR', () => {
  let server: TestServer;
  let root: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'slimlab-cifar-train-'));
    server = await TestServer.start('sqlite', [new TfjsTrainingPlugin(TEST_TRAINING_OPTIONS)]);
  });

  afterAll(async () => {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('trains a small supernet on 32×32 colour images', async () => {
    const cifar = writeCifarDataset(10, { trainPerFile: 8, subfolder: true, parent: root });
    const { createProject: project } = await server.gql(`mutation { createProject(input: { name: "cifar-train" }) { id } }`);
    const { registerDataset: dataset } = await server.gql(
      `mutation($p: ID!, $path: String!) { registerDataset(input: { projectId: $p, name: "cifar10", format: CIFAR, path: $path, searchFraction: 0.25 }) { id } }`,
      { p: project.id, path: cifar.root },
    );
    const { createSearchSpace: space } = await server.gql(
      `mutation($p: ID!) { createSearchSpace(input: { projectId: $p, name: "tiny", architecture: "resnet-cifar", maxWidth: 0.35 }) { id } }`,
      { p: project.id },
    );
    const { trainSupernet: job } = await server.gql(
      `mutation($s: ID!, $d: ID!) { trainSupernet(input: { name: "sn", searchSpaceId: $s, datasetId: $d, recipe: { epochs: 1, batchSize: 15 } }) { id } }`,
      { s: space.id, d: dataset.id },
    );
    const done = await eventually(async () => {
      const { job: j } = await server.gql(`query($id: ID!) { job(id: $id) { state error result } }`, { id: job.id });
      if (j.state === 'FAILED') throw new Error(j.error);
      return j.state === 'SUCCEEDED' ? j : undefined;
    }, 120_000);
    // 40 training images, 10 held out for the search: 2 steps of 15.
    expect(done.result.steps).toBe(2);
  });
});
