import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { crc32, gzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { searchSplit, splitDigest } from '../../executors/data/split';
import { DATABASES } from '../support/databases';
import { idxBytes } from '../support/fixtures';
import { TestServer, type GraphQLErrorShape } from '../support/server';

const IMAGES = { train: 'train-images-idx3-ubyte', test: 't10k-images-idx3-ubyte' };
const LABELS = { train: 'train-labels-idx1-ubyte', test: 't10k-labels-idx1-ubyte' };

/** IDX files of a valid 8×8, 10-class dataset (20 training, 10 test images), by name; tests break one. */
function idxFiles(): Record<string, Buffer> {
  const images = (n: number) => idxBytes([n, 8, 8], Uint8Array.from({ length: n * 64 }, (_, i) => i % 256));
  const labels = (n: number) => idxBytes([n], Uint8Array.from({ length: n }, (_, i) => i % 10));
  return { [IMAGES.train]: images(20), [LABELS.train]: labels(20), [IMAGES.test]: images(10), [LABELS.test]: labels(10) };
}

/** The valid files but `name`, which a test replaces. */
function idxFilesWithout(name: string): Record<string, Buffer> {
  const files = idxFiles();
  delete files[name];
  return files;
}

function writeFolder(parent: string, files: Record<string, Buffer>): string {
  const folder = mkdtempSync(join(parent, 'set-'));
  for (const [name, bytes] of Object.entries(files)) {
    mkdirSync(join(folder, name, '..'), { recursive: true });
    writeFileSync(join(folder, name), bytes);
  }
  return folder;
}

function png(size: number, rgb: (channel: number) => number): Buffer {
  const image = new PNG({ width: size, height: size });
  for (let p = 0; p < size * size; p++) {
    for (let c = 0; c < 3; c++) image.data[p * 4 + c] = rgb(c);
    image.data[p * 4 + 3] = 255;
  }
  return PNG.sync.write(image);
}

/** A PNG whose IHDR says `width`×`height`, with no pixel data behind it: nothing that size is allocated. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const framed = Buffer.alloc(12 + data.length);
    framed.writeUInt32BE(data.length, 0);
    body.copy(framed, 4);
    framed.writeUInt32BE(crc32(body), 8 + data.length);
    return framed;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.alloc(0)), chunk('IEND', Buffer.alloc(0))]);
}

describe.each(DATABASES)('dataset registration on %s refuses what it must not read', (kind) => {
  let server: TestServer;
  let root: string;
  let outside: string;
  let projectId: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'slimlab-root-'));
    outside = mkdtempSync(join(tmpdir(), 'slimlab-outside-'));
    server = await TestServer.start(kind, [], undefined, { datasetRoots: [root, '/usr/share/datasets'] });
    ({ createProject: { id: projectId } } = await server.gql(`mutation { createProject(input: { name: "hardening" }) { id } }`));
  });

  afterAll(async () => {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  const REGISTER = `mutation($p: ID!, $f: DatasetFormat!, $path: String) { registerDataset(input: { projectId: $p, name: "d", format: $f, path: $path }) {
    format folder inputChannels inputHeight inputWidth numClasses trainSize testSize searchSize splitDigest } }`;

  /** Registers `path`, expects BAD_USER_INPUT on input.path, and checks nothing was stored and the server still answers. */
  async function refused(path: string, format: 'IDX' | 'IMAGE_FOLDER' = 'IDX'): Promise<GraphQLErrorShape> {
    const error = await server.gqlError(REGISTER, { p: projectId, f: format, path });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.path' });
    const { datasets } = await server.gql(`query($p: ID!) { datasets(projectId: $p) { id } }`, { p: projectId });
    expect(datasets).toEqual([]);
    return error;
  }

  /** A refusal about a file names it relative to the dataset folder, never where the folder is. */
  async function refusedFile(path: string, message: string | RegExp, format: 'IDX' | 'IMAGE_FOLDER' = 'IDX'): Promise<void> {
    const error = await refused(path, format);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(root);
  }

  it('refuses a path outside the roots, existing or not, a link out of a root, and a file, all with one message', async () => {
    const elsewhere = writeFolder(outside, idxFiles());
    symlinkSync(elsewhere, join(root, 'link-out'));
    const messages = await Promise.all(
      [elsewhere, '/nonexistent/folder', '/root/.ssh', join(root, 'link-out'), join(root, 'missing'), join(root, '..', basename(outside))].map(
        async (path) => (await refused(path)).message,
      ),
    );
    expect(new Set(messages)).toEqual(new Set([`input.path: must be a folder under one of the dataset roots (${root}, /usr/share/datasets)`]));
  });

  it('refuses a FIFO and a link to /dev/zero named like IDX files, by their names', async () => {
    const fifo = writeFolder(root, idxFilesWithout(IMAGES.train));
    execFileSync('mkfifo', [join(fifo, IMAGES.train)]);
    await refusedFile(fifo, `input.path: ${IMAGES.train} is a FIFO, not a regular file`);

    const zero = writeFolder(root, idxFilesWithout(IMAGES.train));
    symlinkSync('/dev/zero', join(zero, `${IMAGES.train}.gz`));
    await refusedFile(zero, `${IMAGES.train}.gz is a symbolic link`);
  });

  it('stops reading a gzip bomb at what its header promises, and refuses a header beyond the size limit', async () => {
    const header = idxBytes([20, 8, 8], new Uint8Array(20 * 64));
    const bomb = writeFolder(root, { ...idxFilesWithout(IMAGES.train), [`${IMAGES.train}.gz`]: gzipSync(Buffer.concat([header, Buffer.alloc(64 << 20)])) });
    await refusedFile(bomb, `${IMAGES.train}.gz: header gives 1280 values, the file holds more than that`);

    const huge = writeFolder(root, { ...idxFiles(), [IMAGES.train]: idxBytes([0xffffffff, 28, 28], new Uint8Array(16)) });
    await refusedFile(huge, /train-images-idx3-ubyte: header gives \d+ values; a file may hold at most 2147483648 bytes/);
  });

  it('refuses empty and truncated files, 0×0 images, a test split of another size, and labels out of range', async () => {
    await refusedFile(writeFolder(root, { ...idxFiles(), [LABELS.test]: Buffer.alloc(0) }), `input.path: ${LABELS.test} is empty`);
    await refusedFile(writeFolder(root, { ...idxFiles(), [IMAGES.test]: idxFiles()[IMAGES.test]!.subarray(0, 100) }), `${IMAGES.test}: header gives 640 values, the file is truncated at 84`);
    await refusedFile(writeFolder(root, { ...idxFiles(), [IMAGES.train]: idxBytes([20, 0, 0], new Uint8Array(0)) }), `${IMAGES.train} has 0×0 images; each side must be between 1 and 4096`);
    await refusedFile(
      writeFolder(root, { ...idxFiles(), [IMAGES.test]: idxBytes([10, 6, 6], new Uint8Array(360)) }),
      'the test images are 6×6, the training images 8×8; both splits need one shape',
    );
    await refusedFile(
      writeFolder(root, { ...idxFiles(), [LABELS.test]: idxBytes([10], Uint8Array.from({ length: 10 }, (_, i) => (i === 3 ? 10 : 0))) }),
      `${LABELS.test} has label 10 at index 3; the training labels are 0 to 9`,
    );
    await refusedFile(writeFolder(root, { ...idxFiles(), [IMAGES.train]: idxBytes([1, 8, 8], new Uint8Array(64)), [LABELS.train]: idxBytes([1], new Uint8Array(1)) }), `${IMAGES.train} holds 1 images; at least 2 are needed`);
  });

  it('refuses a 20000×20000 PNG from its header, before decoding it', async () => {
    const folder = writeFolder(root, {
      'train/a/0.png': pngHeaderOnly(20000, 20000),
      'train/a/1.png': png(4, () => 0),
      'train/b/0.png': png(4, () => 9),
      'test/a/0.png': png(4, () => 0),
      'test/b/0.png': png(4, () => 9),
    });
    await refusedFile(folder, 'input.path: train/a/0.png is 20000×20000; each side must be between 1 and 4096', 'IMAGE_FOLDER');
  });

  it('refuses 257 synthetic classes: labels are bytes', async () => {
    const error = await server.gqlError(`mutation($p: ID!) { registerDataset(input: { projectId: $p, name: "s", format: SYNTHETIC, synthetic: { numClasses: 257 } }) { id } }`, { p: projectId });
    expect(error).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.synthetic.numClasses' } });
    expect(error.message).toMatch(/between 2 and 256/);
  });

  it('registers a folder of gray and colour images as three channels, and Fashion-MNIST as before', async () => {
    const folder = writeFolder(root, {
      'train/a/0.png': png(4, () => 10),
      'train/a/1.png': png(4, () => 20),
      'train/b/0.png': png(4, (c) => 30 + c),
      'test/a/0.png': png(4, () => 40),
      'test/b/0.png': png(4, () => 50),
    });
    const { registerDataset: mixed } = await server.gql(REGISTER, { p: projectId, f: 'IMAGE_FOLDER', path: folder });
    expect(mixed).toMatchObject({ format: 'IMAGE_FOLDER', folder: basename(folder), inputChannels: 3, inputHeight: 4, inputWidth: 4, numClasses: 2, trainSize: 3, testSize: 2 });

    const { registerDataset: fashion } = await server.gql(
      REGISTER.replace('name: "d"', 'name: "fashion", searchFraction: 0.1, splitSeed: 0').replace('splitDigest }', 'splitDigest manifest { kind sha256 } normalization { mean std images } }'),
      {
      p: projectId,
      f: 'IDX',
      path: '/usr/share/datasets/fashion-mnist',
      },
    );
    const { manifest: fashionManifest, normalization, ...fashionShape } = fashion;
    // Over the 54,000 training images less the hold-out, as the in-memory loader computed them.
    expect(normalization).toEqual({ mean: [expect.closeTo(0.28618, 5)], std: [expect.closeTo(0.353, 3)], images: 54000 });
    expect(fashionManifest).toMatchObject({ kind: 'DATASET_MANIFEST', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(fashionShape).toEqual({
      format: 'IDX',
      folder: 'fashion-mnist',
      inputChannels: 1,
      inputHeight: 28,
      inputWidth: 28,
      numClasses: 10,
      trainSize: 60000,
      testSize: 10000,
      searchSize: 6000,
      // The digest covers the hold-out's indices and the sample manifest they index.
      splitDigest: splitDigest(searchSplit(60000, 0.1, 0), fashionManifest.sha256),
    });
  });
});
