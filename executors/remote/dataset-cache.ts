import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DatasetFilesError, listDatasetFiles } from '../data/dataset-files';
import { mapLimit } from '../map-limit';
import type { DatasetManifest } from '../protocol';
import { ProtocolError } from '../protocol-error';
import { isVerified } from './blob-cache';
import { hashFile } from './digest';
import { download, requestJson, type RemoteEndpoint } from './http';
import { checkManifest, manifestDigest, type ManifestFile } from './manifest';
import { partialFileIn, writeVerified } from './verified-write';

/** Files checked or downloaded at once: enough to hide latency, few enough to leave the link to one job. */
const PARALLEL_FILES = 4;

/**
 * Dataset folders a worker's loaders can read as is: a local copy under the worker's dataset root,
 * checked against the server's manifest, or else a download into `<workDir>/datasets/<digest>`.
 */
export class DatasetCache {
  constructor(private readonly workDir: string) {}

  /**
   * The folder holding dataset `datasetId`. With `datasetRoot`, `<datasetRoot>/<manifest name>` is
   * used when it exists, and only if every file the loaders read matches the manifest (otherwise a
   * DIGEST_MISMATCH naming the folder and both digests). A download resumes: files already there
   * and verified are kept.
   */
  async prepare(datasetId: string, endpoint: RemoteEndpoint, datasetRoot?: string): Promise<string> {
    const manifest = checkManifest(await requestJson<unknown>(endpoint, 'GET', `/datasets/${encodeURIComponent(datasetId)}/manifest`), datasetId);
    if (datasetRoot !== undefined) {
      const local = join(datasetRoot, manifest.name);
      if ((await stat(local).catch(() => null))?.isDirectory()) {
        await verifyCopy(local, manifest);
        return local;
      }
    }
    const folder = join(this.workDir, 'datasets', manifest.digest);
    await mapLimit(manifest.files, PARALLEL_FILES, (file) => this.ensureFile(endpoint, manifest, folder, file));
    await checkNothingElse(folder, manifest);
    return folder;
  }

  private async ensureFile(endpoint: RemoteEndpoint, manifest: DatasetManifest, folder: string, file: ManifestFile): Promise<void> {
    // checkManifest held every path to the relative-path rule, so this stays inside `folder`.
    const target = join(folder, file.path);
    if (await isVerified(target, file.sha256, file.bytes)) return;
    await rm(target, { force: true });
    await mkdir(dirname(target), { recursive: true });
    const partial = await partialFileIn(this.workDir);
    const path = file.path.split('/').map(encodeURIComponent).join('/');
    const source = await download(endpoint, `/datasets/${encodeURIComponent(manifest.datasetId)}/files/${path}`);
    try {
      await writeVerified(source, partial, target, { sha256: file.sha256, maxBytes: file.bytes }, `dataset ${manifest.datasetId} file ${file.path}`);
    } finally {
      source.destroy();
    }
  }
}

/** Hashes every file the loaders would read in `folder` and compares the digest with the manifest's. */
async function verifyCopy(folder: string, manifest: DatasetManifest): Promise<void> {
  const listed = await listOrExplain(folder, manifest);
  const files = await mapLimit(listed, PARALLEL_FILES, async (file) => ({ path: file.path, ...(await hashFile(file.absolute)) }));
  const digest = manifestDigest(files);
  if (digest === manifest.digest) return;
  throw new ProtocolError(
    'DIGEST_MISMATCH',
    `${folder} does not hold dataset ${manifest.datasetId}: its files hash to ${digest}, the server's manifest to ${manifest.digest} (${firstDifference(files, manifest)})`,
  );
}

/**
 * Every downloaded file was verified as it arrived; what is left to rule out is a file the loaders
 * would also read that the manifest does not list (a stray image in a class folder).
 */
async function checkNothingElse(folder: string, manifest: DatasetManifest): Promise<void> {
  const expected = new Set(manifest.files.map((file) => file.path));
  const extra = (await listOrExplain(folder, manifest)).filter((file) => !expected.has(file.path));
  if (extra.length > 0) {
    throw new ProtocolError(
      'DIGEST_MISMATCH',
      `${folder} holds ${extra.length} file(s) dataset ${manifest.datasetId} does not, e.g. ${extra[0]!.path}; remove the folder to download it again`,
    );
  }
}

async function listOrExplain(folder: string, manifest: DatasetManifest) {
  try {
    return await listDatasetFiles(manifest.format, folder);
  } catch (error) {
    if (!(error instanceof DatasetFilesError)) throw error;
    throw new ProtocolError('DIGEST_MISMATCH', `${folder} cannot be used as dataset ${manifest.datasetId}: ${error.message}`);
  }
}

function firstDifference(local: readonly ManifestFile[], manifest: DatasetManifest): string {
  const theirs = new Map(manifest.files.map((file) => [file.path, file]));
  const ours = new Set(local.map((file) => file.path));
  for (const file of local) {
    const expected = theirs.get(file.path);
    if (expected === undefined) return `${file.path} is not in the manifest`;
    if (expected.sha256 !== file.sha256) return `${file.path} differs`;
  }
  const missing = manifest.files.find((file) => !ours.has(file.path));
  return missing === undefined ? 'the files differ' : `${missing.path} is missing`;
}
