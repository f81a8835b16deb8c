import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface StoredBlob {
  readonly uri: string;
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * Content-addressed files under the data directory: the same bytes are stored once, and a uri
 * names its content, so a cache keyed by uri or sha256 can never serve stale data.
 */
export class BlobStore {
  constructor(private readonly root: string) {}

  async put(data: Buffer): Promise<StoredBlob> {
    const sha256 = createHash('sha256').update(data).digest('hex');
    const dir = join(this.root, sha256.slice(0, 2));
    const path = join(dir, sha256);
    await mkdir(dir, { recursive: true });
    // Write then rename, so a crash never leaves a truncated file under a content address.
    const partial = `${path}.${randomUUID()}.partial`;
    await writeFile(partial, data);
    await rename(partial, path);
    return { uri: pathToFileURL(path).toString(), bytes: data.length, sha256 };
  }

  async read(uri: string): Promise<Buffer> {
    if (!uri.startsWith('file:')) throw new Error(`artifact uri ${uri}: only file: uris are stored here`);
    return readFile(fileURLToPath(uri));
  }
}
