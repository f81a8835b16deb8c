import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DatasetFilesError, type FileDatasetFormat } from '../../executors/data/dataset-files';
import type { DatasetSpec } from '../../executors/data/source';
import type { DatasetManifest } from '../../executors/protocol';
import { ProtocolError } from '../../executors/protocol-error';
import { relativePathProblem, type ManifestFile } from '../../executors/remote/manifest';
import type { OpenBlob } from '../artifact-store';
import { datasetManifest, type FileHashCache } from './dataset-manifest';

/** Where a dataset's files are, and the digest recorded when it was first shipped (null before). */
export interface DatasetLocation {
  readonly format: DatasetSpec['format'];
  readonly root: string;
  readonly contentDigest: string | null;
}

export interface DatasetLookup {
  /** Throws a coded NOT_FOUND error for an unknown dataset. */
  datasetRoot(datasetId: string): Promise<DatasetLocation>;
  /** Records the digest of a dataset shipped for the first time. */
  saveDigest(datasetId: string, digest: string): Promise<void>;
}

interface Shipped {
  readonly root: string;
  readonly files: ReadonlyMap<string, ManifestFile>;
}

/** Manifests remembered for serving files, so a file request does not walk the whole dataset. */
const REMEMBERED_DATASETS = 32;

/**
 * Dataset folders as workers see them: manifests, and the files those manifests list, served from
 * inside the dataset folder only.
 */
export class ShippedDatasets {
  private readonly remembered = new Map<string, Shipped>();

  constructor(
    private readonly lookup: DatasetLookup,
    private readonly hashes?: FileHashCache,
  ) {}

  async manifest(datasetId: string): Promise<DatasetManifest> {
    const location = await this.locate(datasetId);
    const listed = await datasetManifest(location.format, location.root, this.hashes).catch((error: unknown) => {
      if (error instanceof DatasetFilesError) throw new ProtocolError('INTERNAL', `dataset ${datasetId} cannot be shipped: ${error.message}`);
      throw error;
    });
    if (location.contentDigest === null) {
      await this.lookup.saveDigest(datasetId, listed.digest);
    } else if (location.contentDigest !== listed.digest) {
      // Its runs were made with other bytes: shipping these would silently change what they mean.
      throw new ProtocolError(
        'INTERNAL',
        `dataset ${datasetId} changed since it was first shipped: its files hash to ${listed.digest}, ${location.contentDigest} was recorded`,
      );
    }
    const manifest: DatasetManifest = { datasetId, ...listed };
    this.remember(datasetId, { root: location.root, files: new Map(manifest.files.map((file) => [file.path, file])) });
    return manifest;
  }

  /** A file of the dataset's manifest, opened without following links; anything else is refused. */
  async openFile(datasetId: string, path: string): Promise<OpenBlob> {
    const problem = relativePathProblem(path);
    if (problem !== null) throw new ProtocolError('BAD_REQUEST', `the file path ${problem}`);
    const location = await this.locate(datasetId);
    let shipped = this.remembered.get(datasetId);
    if (shipped?.root !== location.root) {
      await this.manifest(datasetId);
      shipped = this.remembered.get(datasetId)!;
    }
    const file = shipped.files.get(path);
    if (file === undefined) throw new ProtocolError('NOT_FOUND', `dataset ${datasetId} has no file ${path} in its manifest`);

    const changed = () => new ProtocolError('INTERNAL', `dataset ${datasetId}: ${path} changed since its manifest was made; fetch the manifest again`);
    const absolute = join(await realpath(location.root), path);
    // The manifest saw no links, but one may have appeared since: every folder on the way must still
    // be the one its path names, and the file itself is opened with O_NOFOLLOW.
    if ((await realpath(dirname(absolute)).catch(() => null)) !== dirname(absolute)) throw changed();
    const handle = await open(absolute, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => {
      throw changed();
    });
    try {
      const stats = await handle.stat();
      if (!stats.isFile() || stats.size !== file.bytes) throw changed();
      return { bytes: stats.size, stream: handle.createReadStream() };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  private async locate(datasetId: string): Promise<DatasetLocation & { readonly format: FileDatasetFormat }> {
    const { format, root, contentDigest } = await this.lookup.datasetRoot(datasetId);
    if (format === 'SYNTHETIC') {
      throw new ProtocolError('BAD_REQUEST', `dataset ${datasetId} is SYNTHETIC: workers generate it, it has no files`);
    }
    return { format, root, contentDigest };
  }

  private remember(datasetId: string, shipped: Shipped): void {
    this.remembered.delete(datasetId);
    this.remembered.set(datasetId, shipped);
    if (this.remembered.size > REMEMBERED_DATASETS) this.remembered.delete(this.remembered.keys().next().value!);
  }
}
