import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { tarHeader } from '../../cli/tar-writer';
import { writeCifarDataset } from '../support/cifar';
import type { DatabaseKind } from '../support/databases';
import { writeIdxDataset } from '../support/fixtures';
import { TestServer } from '../support/server';
import { countingBody, until } from '../support/uploads';

const MB = 1024 * 1024;
const SHAPE = 'id name format folder trainSize testSize searchSize inputChannels inputHeight inputWidth numClasses splitDigest';

interface Answer {
  status: number;
  body: { dataset?: Record<string, unknown>; errors?: { message: string; extensions: { code: string; field?: string } }[] };
}

/** Temporary folders the tests made, removed at the end. */
const temporary: string[] = [];
afterAll(() => temporary.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function temp<T extends string>(dir: T): T {
  temporary.push(dir);
  return dir;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A tar of `folder` as GNU tar writes it: `./`-prefixed entries, or the folder itself as the one top entry. */
function gnuTar(folder: string, options: { gzip?: boolean; top?: boolean; format?: 'gnu' | 'pax' } = {}): Buffer {
  const out = join(temp(mkdtempSync(join(tmpdir(), 'slimlab-tar-'))), 'set.tar');
  const where = options.top ? ['-C', dirname(folder), basename(folder)] : ['-C', folder, '.'];
  execFileSync('tar', [`--format=${options.format ?? 'gnu'}`, options.gzip ? '-czf' : '-cf', out, ...where]);
  return readFileSync(out);
}

/** An archive built entry by entry, for the entries no honest tool writes. */
function handTar(entries: { name: string; type?: string; data?: Buffer; size?: number; link?: string }[]): Buffer {
  const blocks = entries.flatMap(({ name, type = '0', data = Buffer.alloc(0), size, link }) => [
    tarHeader(name, type, size ?? data.length, link),
    data,
    Buffer.alloc((512 - (data.length % 512)) % 512),
  ]);
  return Buffer.concat([...blocks, Buffer.alloc(1024)]);
}

function png(color: number): Buffer {
  const image = new PNG({ width: 4, height: 4 });
  image.data.fill(color);
  for (let p = 3; p < image.data.length; p += 4) image.data[p] = 255;
  return PNG.sync.write(image);
}

/** train/<class>/*.png and test/<class>/*.png, two gray classes. */
function writeImageFolder(classes: readonly string[] = ['cat', 'dog']): string {
  const dir = temp(mkdtempSync(join(tmpdir(), 'slimlab-images-')));
  for (const split of ['train', 'test']) {
    for (const [label, color] of [[classes[0]!, 40], [classes[1]!, 200]] as const) {
      mkdirSync(join(dir, split, label), { recursive: true });
      for (let i = 0; i < 2; i++) writeFileSync(join(dir, split, label, `${i}.png`), png(color + i));
    }
  }
  return dir;
}

class Uploader {
  constructor(
    readonly server: TestServer,
    readonly projectId: string,
  ) {}

  get uploadsDir(): string {
    return join(this.server.dataDir, 'datasets', 'uploads');
  }

  /** What is in the uploads folder, partial folders included. */
  stored(): string[] {
    return existsSync(this.uploadsDir) ? readdirSync(this.uploadsDir).sort() : [];
  }

  async post(query: Record<string, string>, body: Buffer | AsyncIterable<Uint8Array>, headers: Record<string, string>): Promise<Answer> {
    const url = new URL('/datasets/upload', this.server.url);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    const response = await fetch(url, { method: 'POST', headers, body, duplex: 'half' } as RequestInit);
    return { status: response.status, body: (await response.json()) as Answer['body'] };
  }

  /** Uploads `archive` with its true digest unless told otherwise. */
  upload(archive: Buffer, name: string, options: { gzip?: boolean; sha256?: string; query?: Record<string, string> } = {}): Promise<Answer> {
    return this.post({ projectId: this.projectId, name, ...options.query }, archive, {
      'content-type': options.gzip ? 'application/gzip' : 'application/x-tar',
      'x-content-sha256': options.sha256 ?? sha256(archive),
    });
  }

  async datasetNames(): Promise<string[]> {
    const { datasets } = await this.server.gql(`query($p: ID!) { datasets(projectId: $p) { name } }`, { p: this.projectId });
    return (datasets as { name: string }[]).map((d) => d.name);
  }

  /**
   * Uploads a refused archive and checks the error, that nothing was stored on disk or in the
   * database, and returns the error.
   */
  async refused(status: number, code: string, send: () => Promise<Answer>) {
    const [storedBefore, namesBefore] = [this.stored(), await this.datasetNames()];
    const answer = await send();
    expect([answer.status, answer.body.errors?.[0]?.extensions.code]).toEqual([status, code]);
    expect(answer.body.dataset).toBeUndefined();
    expect(this.stored()).toEqual(storedBefore);
    expect(await this.datasetNames()).toEqual(namesBefore);
    return answer.body.errors![0]!;
  }
}

async function startUploader(kind: DatabaseKind): Promise<Uploader> {
  // Limits of 1 MB, so the size refusals need no large bodies.
  const server = await TestServer.start(kind, [], undefined, { maxDatasetUploadMb: 1, datasetMaxFileMb: 1 });
  const { createProject } = await server.gql(`mutation { createProject(input: { name: "uploads" }) { id } }`);
  return new Uploader(server, createProject.id);
}

describe('dataset uploads (POST /datasets/upload) on sqlite', () => {
  let up: Uploader;
  let idx: string;

  beforeAll(async () => {
    up = await startUploader('sqlite');
    idx = temp(writeIdxDataset(200, 50));
  });
  afterAll(() => up.server.stop());

  it('registers an IDX folder sent as a .tar, as registerDataset would, showing its folder relative to the data', async () => {
    const answer = await up.upload(gnuTar(idx), 'fmnist-tar', { query: { searchFraction: '0.25', splitSeed: '7' } });
    expect(answer.status).toBe(201);
    const dataset = answer.body.dataset!;
    expect(dataset).toMatchObject({ name: 'fmnist-tar', format: 'IDX', trainSize: 200, testSize: 50, searchSize: 50, inputChannels: 1, inputHeight: 8, numClasses: 10 });
    expect(dataset.folder).toMatch(/^uploads\/[0-9a-f-]{36}$/);
    expect(up.stored()).toEqual([basename(dataset.folder as string)]);

    const { datasets } = await up.server.gql(`query($p: ID!) { datasets(projectId: $p) { ${SHAPE} splitSeed } }`, { p: up.projectId });
    expect(datasets).toEqual([{ ...dataset, splitSeed: 7 }]);
    // The same terms on a folder under the roots give the same split.
    const { registerDataset: registered } = await up.server.gql(
      `mutation($p: ID!, $path: String!) { registerDataset(input: { projectId: $p, name: "fmnist-path", format: IDX, path: $path, searchFraction: 0.25, splitSeed: 7 }) { ${SHAPE} } }`,
      { p: up.projectId, path: idx },
    );
    expect(registered.splitDigest).toBe(dataset.splitDigest);
    expect(registered.folder).toBe(basename(idx));
  });

  it('registers a .tar.gz whose one top folder holds the files, and an image folder, reading the format from the files', async () => {
    const gz = await up.upload(gnuTar(idx, { gzip: true, top: true }), 'fmnist-gz', { gzip: true });
    expect(gz.status).toBe(201);
    expect(gz.body.dataset).toMatchObject({ format: 'IDX', trainSize: 200, testSize: 50, numClasses: 10 });

    const images = await up.upload(gnuTar(writeImageFolder(), { gzip: true }), 'pets', { gzip: true });
    expect(images.status).toBe(201);
    expect(images.body.dataset).toMatchObject({ format: 'IMAGE_FOLDER', trainSize: 4, testSize: 4, numClasses: 2, inputChannels: 1, inputHeight: 4 });
    const { datasets } = await up.server.gql(`query($p: ID!) { datasets(projectId: $p) { name classNames } }`, { p: up.projectId });
    expect(datasets.find((d: { name: string }) => d.name === 'pets').classNames).toEqual(['cat', 'dog']);
  });

  it('registers CIFAR archives, reading the format from the files, in their standard folder or at the top', async () => {
    const cifar10 = writeCifarDataset(10, { subfolder: true, classNamesFile: true });
    temp(cifar10.root);
    // Beside the standard folder, as a hand-made archive may have it: the format is found inside.
    writeFileSync(join(cifar10.root, 'README'), 'CIFAR-10, binary version');
    const tar = await up.upload(gnuTar(cifar10.root), 'cifar10');
    expect(tar.status).toBe(201);
    expect(tar.body.dataset).toMatchObject({ format: 'CIFAR', trainSize: 30, testSize: 10, inputChannels: 3, inputHeight: 32, inputWidth: 32, numClasses: 10 });

    const cifar100 = writeCifarDataset(100);
    temp(cifar100.root);
    const gz = await up.upload(gnuTar(cifar100.root, { gzip: true, top: true }), 'cifar100', { gzip: true, query: { format: 'CIFAR' } });
    expect(gz.status).toBe(201);
    expect(gz.body.dataset).toMatchObject({ format: 'CIFAR', trainSize: 30, testSize: 10, numClasses: 100 });
    const { datasets } = await up.server.gql(`query($p: ID!) { datasets(projectId: $p) { name classNames } }`, { p: up.projectId });
    expect(datasets.find((d: { name: string }) => d.name === 'cifar10').classNames).toEqual(cifar10.classNames);
  });

  it('reads names longer than a ustar header holds, as GNU tar and pax write them', async () => {
    const classes = ['a'.repeat(150), 'b'.repeat(150)];
    for (const format of ['gnu', 'pax'] as const) {
      const answer = await up.upload(gnuTar(writeImageFolder(classes), { format }), `long-${format}`);
      expect([answer.status, answer.body.dataset?.numClasses]).toEqual([201, 2]);
    }
    const { datasets } = await up.server.gql(`query($p: ID!) { datasets(projectId: $p) { name classNames } }`, { p: up.projectId });
    expect(datasets.find((d: { name: string }) => d.name === 'long-pax').classNames).toEqual(classes);
  });

  it('refuses a body whose sha256 is not the one stated, leaving no folder behind', async () => {
    const archive = gnuTar(idx);
    const error = await up.refused(400, 'DIGEST_MISMATCH', () => up.upload(archive, 'tampered', { sha256: sha256(Buffer.from('something else')) }));
    expect(error).toMatchObject({ extensions: { field: 'x-content-sha256' } });
    expect(error.message).toContain(`the body received hashes to ${sha256(archive)}`);
  });

  it('answers 413 as soon as a body passes the limit, with or without a stated length', async () => {
    const headers = { 'content-type': 'application/x-tar', 'x-content-sha256': sha256(Buffer.alloc(0)) };
    const query = { projectId: up.projectId, name: 'huge' };
    for (const declared of [true, false]) {
      const total = 64 * MB;
      const { body, sent } = countingBody(total);
      const error = await up.refused(413, 'PAYLOAD_TOO_LARGE', () => up.post(query, body, declared ? { ...headers, 'content-length': String(total) } : headers));
      expect(error.message).toContain('SLIMLAB_MAX_DATASET_UPLOAD_MB');
      expect(sent()).toBeLessThan(total / 4);
    }
    // A file over the per-file cap is refused from its header, before its bytes.
    const big = handTar([{ name: 'train-images-idx3-ubyte', size: 2 * MB }]);
    const error = await up.refused(413, 'PAYLOAD_TOO_LARGE', () => up.upload(big, 'big-file'));
    expect(error.message).toBe(`body: train-images-idx3-ubyte holds ${2 * MB} bytes; a dataset file may hold at most ${MB} (SLIMLAB_DATASET_MAX_FILE_MB)`);
    // A small gzip that unpacks past the limit is stopped there.
    const bomb = gzipSync(handTar(['a', 'b', 'c'].map((name) => ({ name, data: Buffer.alloc(900 * 1024) }))));
    expect(bomb.length).toBeLessThan(16 * 1024);
    const unpacked = await up.refused(413, 'PAYLOAD_TOO_LARGE', () => up.upload(bomb, 'bomb', { gzip: true }));
    expect(unpacked.message).toBe(`body: the archive unpacks to more than ${MB} bytes (SLIMLAB_MAX_DATASET_UPLOAD_MB)`);
    // So is one whose size a pax header states, as it does for files over the 8 GB a ustar header can.
    const paxSized = handTar([{ name: 'PaxHeader', type: 'x', data: Buffer.from(`16 size=${2 * MB}\n`) }, { name: 'train-images-idx3-ubyte' }]);
    expect((await up.refused(413, 'PAYLOAD_TOO_LARGE', () => up.upload(paxSized, 'pax-size'))).message).toContain(`holds ${2 * MB} bytes`);
  });

  it('removes the partial folder of an upload the client abandons', async () => {
    const partials = () => up.stored().filter((name) => name.endsWith('.partial'));
    const before = up.stored();
    const upload = httpRequest({
      host: '127.0.0.1',
      port: new URL(up.server.url).port,
      method: 'POST',
      path: `/datasets/upload?projectId=${up.projectId}&name=abandoned`,
      headers: { 'content-type': 'application/x-tar', 'x-content-sha256': sha256(Buffer.alloc(0)), 'content-length': String(MB) },
    });
    upload.on('error', () => undefined);
    upload.write(handTar([{ name: 'train-images-idx3-ubyte', data: Buffer.alloc(512 * 1024) }]).subarray(0, 256 * 1024));
    await until(() => partials().length === 1);
    upload.destroy();
    await until(() => partials().length === 0);
    expect(up.stored()).toEqual(before);
    expect(await up.datasetNames()).not.toContain('abandoned');
  });

  it('refuses entries that would land outside the folder, links, devices and FIFOs, naming the entry', async () => {
    const outside = join(up.server.dataDir, 'datasets', 'escaped');
    const cases: [Parameters<typeof handTar>[0][number], RegExp][] = [
      [{ name: '../escaped', data: Buffer.from('x') }, /entry "\.\.\/escaped" has an empty, "\." or "\.\." segment/],
      [{ name: 'train/../../escaped', data: Buffer.from('x') }, /entry "train\/\.\.\/\.\.\/escaped"/],
      [{ name: '/tmp/escaped', data: Buffer.from('x') }, /entry "\/tmp\/escaped" is absolute/],
      [{ name: 'train-images-idx3-ubyte', type: '2', link: '/etc/passwd' }, /"train-images-idx3-ubyte" is a symbolic link; only regular files and folders are accepted/],
      [{ name: 'labels', type: '1', link: 'train-labels-idx1-ubyte' }, /is a hard link/],
      [{ name: 'zero', type: '3' }, /is a character device/],
      [{ name: 'pipe', type: '6' }, /is a FIFO/],
    ];
    for (const [entry, message] of cases) {
      const error = await up.refused(400, 'BAD_USER_INPUT', () => up.upload(handTar([{ name: 'ok', data: Buffer.from('fine') }, entry]), 'evil'));
      expect(error.extensions.field).toBe('body');
      expect(error.message).toMatch(message);
    }
    expect(existsSync(outside)).toBe(false);
  });

  it('refuses a body that is not a tar, or not gzip, a type it does not take, and a dataset its files do not make', async () => {
    const notTar = await up.refused(400, 'BAD_USER_INPUT', () => up.upload(Buffer.alloc(2048, 'a'), 'junk'));
    expect(notTar.message).toContain('the body is not a tar archive');
    const notGzip = await up.refused(400, 'BAD_USER_INPUT', () => up.upload(gnuTar(idx), 'junk', { gzip: true }));
    expect(notGzip.message).toContain('the body is not valid gzip data');
    const truncated = gnuTar(idx).subarray(0, 3000);
    expect((await up.refused(400, 'BAD_USER_INPUT', () => up.upload(truncated, 'cut'))).message).toMatch(/truncated|ends inside/);

    const zip = await up.refused(415, 'UNSUPPORTED_MEDIA_TYPE', () =>
      up.post({ projectId: up.projectId, name: 'zip' }, Buffer.from('PK'), { 'content-type': 'application/zip', 'x-content-sha256': sha256(Buffer.from('PK')) }),
    );
    expect(zip.message).toContain('content-type: must be application/x-tar');

    const noLabels = handTar([{ name: 'train-images-idx3-ubyte.gz', data: readFileSync(join(idx, 'train-images-idx3-ubyte.gz')) }]);
    const incomplete = await up.refused(400, 'BAD_USER_INPUT', () => up.upload(noLabels, 'partial', { query: { format: 'IDX' } }));
    expect(incomplete).toMatchObject({ message: 'body: missing train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each may be gzipped, ending in .gz)', extensions: { field: 'body' } });
    const unknown = await up.refused(400, 'BAD_USER_INPUT', () => up.upload(handTar([{ name: 'README', data: Buffer.from('hi') }]), 'what'));
    expect(unknown.extensions.field).toBe('format');
  });

  it('names the parameter a request lacks or gets wrong, and refuses before reading the body', async () => {
    const archive = gnuTar(idx);
    const headers = { 'content-type': 'application/x-tar', 'x-content-sha256': sha256(archive) };
    const cases: [Record<string, string>, number, string, string][] = [
      [{ name: 'x' }, 400, 'BAD_USER_INPUT', 'projectId'],
      [{ projectId: up.projectId }, 400, 'BAD_USER_INPUT', 'name'],
      [{ projectId: up.projectId, name: '  ' }, 400, 'BAD_USER_INPUT', 'name'],
      [{ projectId: 'not-an-id', name: 'x' }, 400, 'BAD_USER_INPUT', 'projectId'],
      [{ projectId: up.projectId, name: 'x', searchFraction: 'half' }, 400, 'BAD_USER_INPUT', 'searchFraction'],
      [{ projectId: up.projectId, name: 'x', searchFraction: '0.9' }, 400, 'BAD_USER_INPUT', 'searchFraction'],
      [{ projectId: up.projectId, name: 'x', splitSeed: '1.5' }, 400, 'BAD_USER_INPUT', 'splitSeed'],
      [{ projectId: up.projectId, name: 'x', format: 'SYNTHETIC' }, 400, 'BAD_USER_INPUT', 'format'],
      [{ projectId: up.projectId, name: 'x', seed: '1' }, 400, 'BAD_USER_INPUT', 'seed'],
      [{ projectId: '00000000-0000-4000-8000-000000000000', name: 'x' }, 404, 'NOT_FOUND', 'projectId'],
      [{ projectId: up.projectId, name: 'fmnist-tar' }, 409, 'CONFLICT', 'name'],
    ];
    for (const [query, status, code, field] of cases) {
      const error = await up.refused(status, code, () => up.post(query, archive, headers));
      expect([field, error.message.startsWith(`${field}: `)]).toEqual([error.extensions.field, true]);
    }
    const badDigest = await up.refused(400, 'BAD_USER_INPUT', () =>
      up.post({ projectId: up.projectId, name: 'x' }, archive, { ...headers, 'x-content-sha256': sha256(archive).toUpperCase() }),
    );
    expect(badDigest.extensions.field).toBe('x-content-sha256');

    // Refused before the body: a large upload to an unknown project is not read.
    const { body, sent } = countingBody(64 * MB);
    await up.refused(404, 'NOT_FOUND', () => up.post({ projectId: '00000000-0000-4000-8000-000000000000', name: 'x' }, body, headers));
    expect(sent()).toBeLessThan(16 * MB);
  });

  it('keeps registerDataset out of the uploads folder: an upload belongs to its project', async () => {
    const [folder] = up.stored();
    const error = await up.server.gqlError(
      `mutation($p: ID!, $path: String!) { registerDataset(input: { projectId: $p, name: "again", format: IDX, path: $path }) { id } }`,
      { p: up.projectId, path: join(up.uploadsDir, folder!) },
    );
    expect(error).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.path' } });
    expect(error.message).toContain('is a folder of uploaded datasets');
  });
});

describe('dataset uploads on postgresql', () => {
  it('registers an uploaded .tar.gz', async () => {
    const up = await startUploader('postgresql');
    try {
      const answer = await up.upload(gnuTar(temp(writeIdxDataset(40, 20)), { gzip: true }), 'fmnist', { gzip: true });
      expect(answer.status).toBe(201);
      const { datasets } = await up.server.gql(`query($p: ID!) { datasets(projectId: $p) { ${SHAPE} } }`, { p: up.projectId });
      expect(datasets).toEqual([answer.body.dataset]);
      expect(datasets[0]).toMatchObject({ format: 'IDX', trainSize: 40, testSize: 20, inputChannels: 1, inputHeight: 8, numClasses: 10 });
    } finally {
      await up.server.stop();
    }
  });
});
