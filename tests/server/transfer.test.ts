import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import express from 'express';
import { PNG } from 'pngjs';
import type { ArtifactRef } from '../../executors/contract';
import { DatasetFilesError } from '../../executors/data/dataset-files';
import { LEASE_HEADER, PROTOCOL_PREFIX, SHA256_HEADER, type DatasetManifest, type ProtocolErrorBody } from '../../executors/protocol';
import { ProtocolError } from '../../executors/protocol-error';
import * as digestModule from '../../executors/remote/digest';
import { serverBlobs, uploadArtifact } from '../../executors/remote/artifacts';
import { BlobCache } from '../../executors/remote/blob-cache';
import { DatasetCache } from '../../executors/remote/dataset-cache';
import { TransferTimeoutError, type FetchLike, type RemoteEndpoint } from '../../executors/remote/http';
import { manifestDigest } from '../../executors/remote/manifest';
import { BlobStore, type StoredBlob } from '../../server/artifact-store';
import { datasetManifest, FileHashCache } from '../../server/transfer/dataset-manifest';
import type { DatasetLocation } from '../../server/transfer/shipped-datasets';
import { transferRoutes } from '../../server/transfer/routes';
import { writeCifarDataset } from '../support/cifar';
import { loadSplits } from '../support/streamed';
import { countingBody, until } from '../support/uploads';

const MB = 1024 * 1024;
const LIMIT = 24 * MB;
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

const scratch = mkdtempSync(join(tmpdir(), 'slimlab-transfer-'));
const artifactsDir = join(scratch, 'server', 'artifacts');
const leases = new Map<string, { attempt: number; token: string }>();
const datasets = new Map<string, DatasetLocation>();
const authorized: string[] = [];
const registered: StoredBlob[] = [];
const saved: string[] = [];
/** Failures the routes did not expect: none of these tests should cause one. */
const unexpected: string[] = [];

let server: Server;
let endpoint: RemoteEndpoint;
let requests: string[] = [];

beforeAll(async () => {
  const app = express();
  app.use(
    PROTOCOL_PREFIX,
    transferRoutes({
      blobs: new BlobStore(artifactsDir),
      maxUploadBytes: LIMIT,
      hashes: new FileHashCache(),
      log: { warn: (message) => void unexpected.push(message) },
      async authorizeUpload(jobId, attempt, token) {
        authorized.push(jobId);
        const lease = leases.get(jobId);
        if (lease?.attempt !== attempt || lease.token !== token) throw new ProtocolError('LEASE_LOST', `job ${jobId}: the lease moved on`);
      },
      async registerArtifact(_jobId, _attempt, _token, _kind, _name, blob): Promise<ArtifactRef> {
        registered.push(blob);
        return { id: `artifact-${registered.length}`, ...blob };
      },
      async datasetRoot(id) {
        const location = datasets.get(id);
        if (location === undefined) throw new ProtocolError('NOT_FOUND', `no dataset ${id}`);
        return location;
      },
      async saveDigest(id, digest) {
        saved.push(id);
        datasets.set(id, { ...datasets.get(id)!, contentDigest: digest });
      },
    }),
  );
  server = app.listen(0, '127.0.0.1');
  await new Promise((ready) => server.once('listening', ready));
  const counting: FetchLike = (url, init) => {
    requests.push(`${init.method} ${new URL(url).pathname}`);
    return fetch(url, init);
  };
  endpoint = { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, headers: { authorization: 'Bearer test' }, fetch: counting };
});

afterAll(async () => {
  expect(unexpected).toEqual([]);
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
  rmSync(scratch, { recursive: true, force: true });
});

beforeEach(() => {
  requests = [];
});

/** Every file under a folder, relative; bounded by the test's own small trees. */
function filesUnder(root: string): string[] {
  try {
    return readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name));
  } catch {
    return [];
  }
}

async function rawPut(jobId: string, headers: Record<string, string>, body: AsyncIterable<Uint8Array> | Buffer) {
  const response = await fetch(`${endpoint.baseUrl}${PROTOCOL_PREFIX}/jobs/${jobId}/artifacts?kind=CHECKPOINT&name=w.bin`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', ...headers },
    body,
    duplex: 'half',
  } as RequestInit);
  return { status: response.status, body: (await response.json()) as ProtocolErrorBody };
}

/** A GET with the path exactly as written: fetch would normalize `..` away. */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path, method: 'GET' }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
    })
      .on('error', reject)
      .end();
  });
}

function idx(dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((dim, i) => header.writeUInt32BE(dim, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

/** An MNIST-layout folder: train gzipped, test plain, as both occur in the wild. */
function idxFolder(name: string): string {
  const root = join(scratch, 'data', name);
  mkdirSync(root, { recursive: true });
  const images = (count: number) => Uint8Array.from({ length: count * 16 }, (_, i) => (i * 7) % 256);
  const labels = (count: number) => Uint8Array.from({ length: count }, (_, i) => i % 3);
  writeFileSync(join(root, 'train-images-idx3-ubyte.gz'), gzipSync(idx([12, 4, 4], images(12))));
  writeFileSync(join(root, 'train-labels-idx1-ubyte.gz'), gzipSync(idx([12], labels(12))));
  writeFileSync(join(root, 't10k-images-idx3-ubyte'), idx([6, 4, 4], images(6)));
  writeFileSync(join(root, 't10k-labels-idx1-ubyte'), idx([6], labels(6)));
  writeFileSync(join(root, 'README'), 'not read by the loader');
  return root;
}

function imageFolder(name: string): string {
  const root = join(scratch, 'data', name);
  for (const split of ['train', 'test']) {
    ['cat', 'dog'].forEach((label, classIndex) => {
      const folder = join(root, split, label);
      mkdirSync(folder, { recursive: true });
      for (let i = 0; i < 3; i++) {
        const png = new PNG({ width: 5, height: 5 });
        png.data.fill(40 * classIndex + 10 * i + (split === 'test' ? 5 : 0));
        for (let p = 3; p < png.data.length; p += 4) png.data[p] = 255;
        writeFileSync(join(folder, `${i}.png`), PNG.sync.write(png));
      }
      writeFileSync(join(folder, 'notes.txt'), 'not an image');
    });
  }
  return root;
}

function register(id: string, format: DatasetManifest['format'], root: string): void {
  datasets.set(id, { format, root, contentDigest: null });
}

const workDir = (name: string) => join(scratch, 'workers', name);

describe('artifact uploads', () => {
  const lease = { jobId: 'job-1', attempt: 2, token: 'secret-token' };
  beforeAll(() => leases.set(lease.jobId, { attempt: 2, token: 'secret-token' }));

  it('streams a 20 MB artifact up, stores it under its digest and hands back the ref', async () => {
    const data = randomBytes(20 * MB);
    const cache = new BlobCache(workDir('upload'));
    const ref = await uploadArtifact(endpoint, cache, lease, 'CHECKPOINT', 'weights.bin', data);
    expect(ref).toMatchObject({ sha256: sha(data), bytes: data.length });
    expect(readFileSync(join(artifactsDir, ref.sha256.slice(0, 2), ref.sha256)).equals(data)).toBe(true);
    // The worker's own copy is what a retry would stream again.
    expect(readFileSync(cache.pathOf(ref.sha256)).equals(data)).toBe(true);

    const downloaded = await new BlobCache(workDir('download')).get(ref.sha256, serverBlobs(endpoint));
    expect(readFileSync(downloaded).equals(data)).toBe(true);
  });

  it('uploads a file by path', async () => {
    const path = join(scratch, 'model.onnx');
    writeFileSync(path, 'onnx bytes');
    const ref = await uploadArtifact(endpoint, new BlobCache(workDir('upload')), lease, 'ONNX', 'model.onnx', path);
    expect(ref.sha256).toBe(sha(Buffer.from('onnx bytes')));
  });

  it('refuses bytes that do not hash to the stated digest, storing nothing', async () => {
    const before = registered.length;
    const data = randomBytes(MB);
    const lied = sha(Buffer.from('something else'));
    const answer = await rawPut('job-1', { [LEASE_HEADER]: '2:secret-token', [SHA256_HEADER]: lied }, data);
    expect(answer.status).toBe(422);
    expect(answer.body.error.code).toBe('DIGEST_MISMATCH');
    expect(registered.length).toBe(before);
    expect(filesUnder(artifactsDir).filter((path) => path.endsWith('.partial') || basename(path) === lied || basename(path) === sha(data))).toEqual([]);
  });

  it('refuses an upload over the limit up front when its length is declared', async () => {
    const authorizedBefore = authorized.length;
    const total = LIMIT + 64 * MB;
    const { body, sent } = countingBody(total);
    const answer = await rawPut('job-1', { [LEASE_HEADER]: '2:secret-token', [SHA256_HEADER]: sha(Buffer.alloc(0)), 'content-length': String(total) }, body);
    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe('TOO_LARGE');
    expect(authorized.length).toBe(authorizedBefore);
    expect(sent()).toBeLessThan(total / 4);
  });

  it('stops reading a streamed upload at the limit when no length is declared', async () => {
    const before = filesUnder(artifactsDir).length;
    const total = LIMIT + 64 * MB;
    const { body, sent } = countingBody(total);
    const answer = await rawPut('job-1', { [LEASE_HEADER]: '2:secret-token', [SHA256_HEADER]: sha(Buffer.alloc(0)) }, body);
    expect(answer.status).toBe(413);
    expect(answer.body.error.message).toContain(`limit of ${LIMIT} bytes`);
    expect(sent()).toBeLessThan(total - 32 * MB);
    expect(filesUnder(artifactsDir).length).toBe(before);
  });

  it('answers a stale lease with 409 before reading the body', async () => {
    const before = registered.length;
    const total = 16 * MB;
    const { body, sent } = countingBody(total);
    const answer = await rawPut('job-1', { [LEASE_HEADER]: '1:old-token', [SHA256_HEADER]: sha(Buffer.alloc(0)), 'content-length': String(total) }, body);
    expect(answer).toEqual({ status: 409, body: { error: { code: 'LEASE_LOST', message: 'job job-1: the lease moved on' } } });
    expect(sent()).toBeLessThan(total / 2);
    expect(registered.length).toBe(before);

    const stale = uploadArtifact(endpoint, new BlobCache(workDir('stale')), { ...lease, token: 'old-token' }, 'CHECKPOINT', 'w', Buffer.from('x'));
    await expect(stale).rejects.toMatchObject({ code: 'LEASE_LOST' });
  });

  it('removes the partial file of an upload the worker abandons', async () => {
    const partials = () => filesUnder(artifactsDir).filter((path) => path.endsWith('.partial'));
    const { port } = server.address() as AddressInfo;
    const upload = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'PUT',
      path: `${PROTOCOL_PREFIX}/jobs/job-1/artifacts?kind=CHECKPOINT&name=w`,
      headers: { [LEASE_HEADER]: '2:secret-token', [SHA256_HEADER]: sha(Buffer.alloc(8 * MB)), 'content-length': String(8 * MB) },
    });
    upload.on('error', () => undefined);
    upload.write(Buffer.alloc(MB));
    await until(() => partials().length === 1);
    upload.destroy();
    await until(() => partials().length === 0);
  });

  it('answers malformed uploads with 400', async () => {
    const cases: Record<string, string>[] = [
      { [LEASE_HEADER]: 'token-without-attempt', [SHA256_HEADER]: sha(Buffer.alloc(0)) },
      { [LEASE_HEADER]: '2:secret-token', [SHA256_HEADER]: sha(Buffer.alloc(0)).toUpperCase() },
    ];
    for (const headers of cases) {
      const answer = await rawPut('job-1', headers, Buffer.alloc(0));
      expect([answer.status, answer.body.error.code]).toEqual([400, 'BAD_REQUEST']);
    }
  });
});

describe('blob downloads', () => {
  it('serves stored blobs, 404 for absent ones and 400 for names that are not digests', async () => {
    expect((await rawGet(`${PROTOCOL_PREFIX}/blobs/${'0'.repeat(64)}`)).status).toBe(404);
    expect((await rawGet(`${PROTOCOL_PREFIX}/blobs/..%2f..%2fetc%2fpasswd`)).status).toBe(400);
  });

  it('re-downloads a cached blob whose bytes were tampered with', async () => {
    const data = Buffer.from('a checkpoint');
    const ref = await uploadArtifact(endpoint, new BlobCache(workDir('up2')), { jobId: 'job-1', attempt: 2, token: 'secret-token' }, 'CHECKPOINT', 'c', data);
    const cache = new BlobCache(workDir('tamper'));
    let downloads = 0;
    const source = serverBlobs(endpoint);
    const counted = (digest: string) => {
      downloads++;
      return source(digest);
    };
    const [first, second] = await Promise.all([cache.get(ref.sha256, counted), cache.get(ref.sha256, counted)]);
    expect(first).toBe(second);
    expect(downloads).toBe(1);
    await cache.get(ref.sha256, counted);
    expect(downloads).toBe(1);

    writeFileSync(first, 'a checkpoinT');
    expect(readFileSync(await cache.get(ref.sha256, counted)).equals(data)).toBe(true);
    expect(downloads).toBe(2);
  });

  it('refuses downloaded bytes that do not match the digest and keeps nothing', async () => {
    const cache = new BlobCache(workDir('wrong'));
    const digest = sha(Buffer.from('expected'));
    await expect(cache.get(digest, async () => Readable.from([Buffer.from('forged')]))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(filesUnder(workDir('wrong'))).toEqual([]);
  });
});

describe('datasets', () => {
  it('ships an IDX folder that loads identically from the worker cache, and resumes a partial copy', async () => {
    const root = idxFolder('fashion');
    register('idx', 'IDX', root);
    const manifest = (await (await fetch(`${endpoint.baseUrl}${PROTOCOL_PREFIX}/datasets/idx/manifest`)).json()) as DatasetManifest;
    expect(manifest.files.map((file) => file.path)).toEqual([
      't10k-images-idx3-ubyte',
      't10k-labels-idx1-ubyte',
      'train-images-idx3-ubyte.gz',
      'train-labels-idx1-ubyte.gz',
    ]);
    expect(manifest).toMatchObject({ datasetId: 'idx', format: 'IDX', name: 'fashion', digest: manifestDigest(manifest.files) });
    expect(datasets.get('idx')!.contentDigest).toBe(manifest.digest);

    const cache = new DatasetCache(workDir('datasets'));
    const folder = await cache.prepare('idx', endpoint);
    expect(folder).toBe(join(workDir('datasets'), 'datasets', manifest.digest));
    expect(await loadSplits('IDX', folder)).toEqual(await loadSplits('IDX', root));
    expect(saved.filter((id) => id === 'idx')).toHaveLength(1);

    rmSync(join(folder, 't10k-labels-idx1-ubyte'));
    requests = [];
    await cache.prepare('idx', endpoint);
    expect(requests).toEqual(['GET /worker/v1/datasets/idx/manifest', 'GET /worker/v1/datasets/idx/files/t10k-labels-idx1-ubyte']);
  });

  it('ships an image folder that loads identically from the worker cache', async () => {
    const root = imageFolder('pets');
    register('images', 'IMAGE_FOLDER', root);
    const folder = await new DatasetCache(workDir('datasets')).prepare('images', endpoint);
    expect(requests.filter((line) => line.includes('/files/'))).toHaveLength(12);
    expect(await loadSplits('IMAGE_FOLDER', folder)).toEqual(await loadSplits('IMAGE_FOLDER', root));
  });

  it('ships the data files of a CIFAR folder, in its archive subfolder, that load identically from the worker cache or a local copy', async () => {
    mkdirSync(join(scratch, 'data'), { recursive: true });
    const cifar = writeCifarDataset(10, { subfolder: true, classNamesFile: true, parent: join(scratch, 'data') });
    register('cifar', 'CIFAR', cifar.root);
    const manifest = (await (await fetch(`${endpoint.baseUrl}${PROTOCOL_PREFIX}/datasets/cifar/manifest`)).json()) as DatasetManifest;
    // The class names are the server's, stored at registration: the loader reads only the records.
    expect(manifest.files.map((file) => file.path)).toEqual(
      ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'].map((name) => `cifar-10-batches-bin/${name}`),
    );
    expect(manifest).toMatchObject({ format: 'CIFAR', name: basename(cifar.root) });

    const folder = await new DatasetCache(workDir('cifar')).prepare('cifar', endpoint);
    expect(await loadSplits('CIFAR', folder)).toEqual(await loadSplits('CIFAR', cifar.root));
    expect(await new DatasetCache(workDir('cifar-local')).prepare('cifar', endpoint, dirname(cifar.root))).toBe(cifar.root);
  });

  it('rejects a cache folder holding an image the manifest does not list', async () => {
    const cache = new DatasetCache(workDir('stray'));
    const folder = await cache.prepare('images', endpoint);
    writeFileSync(join(folder, 'train', 'cat', 'stray.png'), readFileSync(join(folder, 'train', 'cat', '0.png')));
    await expect(cache.prepare('images', endpoint)).rejects.toThrow(/holds 1 file\(s\) dataset images does not, e\.g\. train\/cat\/stray\.png/);
  });

  it('uses a verified local copy under the dataset root and rejects a modified one, naming both digests', async () => {
    const root = datasets.get('images')!.root;
    const cache = new DatasetCache(workDir('local'));
    requests = [];
    expect(await cache.prepare('images', endpoint, dirname(root))).toBe(root);
    expect(requests).toEqual(['GET /worker/v1/datasets/images/manifest']);

    const otherRoot = join(scratch, 'elsewhere');
    const copy = join(otherRoot, 'pets');
    cpSync(root, copy, { recursive: true });
    expect(await cache.prepare('images', endpoint, otherRoot)).toBe(copy);
    const png = readFileSync(join(copy, 'test', 'dog', '1.png'));
    png[png.length - 20] ^= 0xff;
    writeFileSync(join(copy, 'test', 'dog', '1.png'), png);
    const error = (await cache.prepare('images', endpoint, otherRoot).catch((e: unknown) => e)) as ProtocolError;
    expect(error.code).toBe('DIGEST_MISMATCH');
    const digest = datasets.get('images')!.contentDigest!;
    expect(error.message).toContain(copy);
    expect(error.message).toContain(digest);
    expect(error.message).toMatch(new RegExp(`hash to (?!${digest})[0-9a-f]{64}`));
    expect(error.message).toContain('test/dog/1.png differs');
  });

  it('rehashes nothing for the manifest of an unchanged dataset', async () => {
    const hashes = new FileHashCache();
    const root = datasets.get('idx')!.root;
    const first = await datasetManifest('IDX', root, hashes);
    const spy = jest.spyOn(digestModule, 'hashFile');
    try {
      expect(await datasetManifest('IDX', root, hashes)).toEqual(first);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('refuses a dataset whose files changed since it was first shipped', async () => {
    const root = idxFolder('changing');
    register('changing', 'IDX', root);
    expect((await rawGet(`${PROTOCOL_PREFIX}/datasets/changing/manifest`)).status).toBe(200);
    writeFileSync(join(root, 't10k-labels-idx1-ubyte'), idx([6], new Uint8Array(6)));
    const answer = await rawGet(`${PROTOCOL_PREFIX}/datasets/changing/manifest`);
    expect(answer.status).toBe(500);
    expect(answer.body).toContain('changed since it was first shipped');
    expect(answer.body).not.toContain(scratch);
  });

  it('refuses a symbolic link inside a dataset folder without revealing where the dataset lives', async () => {
    const root = imageFolder('linked');
    writeFileSync(join(scratch, 'secret.png'), 'outside the dataset');
    symlinkSync(join(scratch, 'secret.png'), join(root, 'train', 'cat', 'evil.png'));
    register('linked', 'IMAGE_FOLDER', root);
    const answer = await rawGet(`${PROTOCOL_PREFIX}/datasets/linked/manifest`);
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body)).toEqual({
      error: { code: 'INTERNAL', message: 'dataset linked cannot be shipped: train/cat/evil.png is a symbolic link; only regular files are shipped' },
    });
    expect((await rawGet(`${PROTOCOL_PREFIX}/datasets/linked/files/train/cat/evil.png`)).status).toBe(500);
    await expect(datasetManifest('IMAGE_FOLDER', root)).rejects.toBeInstanceOf(DatasetFilesError);

    rmSync(join(root, 'train', 'cat', 'evil.png'));
    symlinkSync(join(root, 'train', 'dog'), join(root, 'train', 'wolf'));
    await expect(datasetManifest('IMAGE_FOLDER', root)).rejects.toThrow('train/wolf is a symbolic link');
  });

  it('serves only files of the manifest: no traversal, no other file of the folder', async () => {
    writeFileSync(join(scratch, 'data', 'secret.txt'), 'top secret');
    const attempts = [
      '/datasets/idx/files/..%2fsecret.txt',
      '/datasets/idx/files/..%2f..%2f..%2fetc%2fpasswd',
      '/datasets/idx/files/../secret.txt',
      '/datasets/idx/files/%2e%2e/secret.txt',
      '/datasets/idx/files/%2Fetc%2Fpasswd',
      '/datasets/idx/files/README',
      '/datasets/idx/files/train-images-idx3-ubyte.gz%00',
      '/datasets/images/files/train/cat/notes.txt',
      '/datasets/nope/files/README',
      '/datasets/idx/files/%E0%A4%A',
    ];
    for (const path of attempts) {
      const answer = await rawGet(`${PROTOCOL_PREFIX}${path}`);
      expect([path, [400, 404].includes(answer.status)]).toEqual([path, true]);
      const body = JSON.parse(answer.body) as ProtocolErrorBody;
      expect(['BAD_REQUEST', 'NOT_FOUND']).toContain(body.error.code);
      expect(answer.body).not.toContain('top secret');
      expect(answer.body).not.toContain(scratch);
    }
    const served = await rawGet(`${PROTOCOL_PREFIX}/datasets/idx/files/t10k-labels-idx1-ubyte`);
    expect(served.status).toBe(200);
  });
});

describe('request timeouts', () => {
  it('aborts a request that makes no progress', async () => {
    const silent = express();
    silent.get(`${PROTOCOL_PREFIX}/datasets/:id/manifest`, () => undefined);
    const stalled = silent.listen(0, '127.0.0.1');
    await new Promise((ready) => stalled.once('listening', ready));
    try {
      const baseUrl = `http://127.0.0.1:${(stalled.address() as AddressInfo).port}`;
      const prepare = new DatasetCache(workDir('timeout')).prepare('x', { baseUrl, headers: {}, idleTimeoutMs: 200 });
      await expect(prepare).rejects.toBeInstanceOf(TransferTimeoutError);
    } finally {
      stalled.closeAllConnections();
      await new Promise((done) => stalled.close(done));
    }
  });

});
