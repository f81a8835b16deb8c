import { createHash } from 'node:crypto';
import type { DatasetManifest } from '../protocol';
import { ProtocolError } from '../protocol-error';
import { isSha256 } from './digest';

export type ManifestFile = DatasetManifest['files'][number];

/** The manifest digest: sha256 over the sorted `path\tbytes\tsha256\n` lines of every file. */
export function manifestDigest(files: readonly ManifestFile[]): string {
  const lines = files.map((file) => `${file.path}\t${file.bytes}\t${file.sha256}\n`).sort(byCodeUnits);
  const hash = createHash('sha256');
  for (const line of lines) hash.update(line);
  return hash.digest('hex');
}

/** Plain code-unit order: locale-independent, so both sides of the wire sort alike. */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Why `path` is not a safe dataset-relative path, or null. Both sides hold paths to this rule: the
 * server lists nothing it could not serve, and a worker writes nothing outside its cache folder.
 * Control characters would break the digest's line format; backslashes are separators elsewhere.
 */
export function relativePathProblem(path: string): string | null {
  if (path.length === 0 || path.length > 4096) return 'is empty or too long';
  if (/[\u0000-\u001f\u007f\\]/.test(path)) return 'holds a control character or a backslash';
  if (path.startsWith('/')) return 'is absolute';
  if (path.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    return 'has an empty, "." or ".." segment';
  }
  return null;
}

/**
 * Checks a manifest a worker received before any of it names a file: every path safe and unique,
 * sizes and digests well formed, and the digest recomputed from the files, since the digest names
 * the cache folder.
 */
export function checkManifest(value: unknown, datasetId: string): DatasetManifest {
  const bad = (why: string) => new ProtocolError('BAD_REQUEST', `manifest of dataset ${datasetId}: ${why}`);
  const manifest = value as Partial<DatasetManifest> | null;
  if (typeof manifest !== 'object' || manifest === null) throw bad('not a JSON object');
  if (manifest.datasetId !== datasetId) throw bad(`it names dataset ${String(manifest.datasetId)}`);
  if (manifest.format !== 'IDX' && manifest.format !== 'IMAGE_FOLDER' && manifest.format !== 'CIFAR') throw bad(`unknown format ${String(manifest.format)}`);
  if (typeof manifest.name !== 'string' || manifest.name.includes('/') || relativePathProblem(manifest.name) !== null) {
    throw bad(`folder name ${JSON.stringify(manifest.name)} is not one plain path segment`);
  }
  if (!isSha256(manifest.digest)) throw bad('the digest is not 64 lowercase hex digits');
  if (!Array.isArray(manifest.files) || manifest.files.length === 0) throw bad('no files');
  const seen = new Set<string>();
  for (const file of manifest.files as unknown[]) {
    const { path, bytes, sha256 } = (file ?? {}) as Partial<ManifestFile>;
    if (typeof path !== 'string') throw bad('a file has no path');
    const problem = relativePathProblem(path);
    if (problem !== null) throw bad(`file path ${JSON.stringify(path)} ${problem}`);
    if (seen.has(path)) throw bad(`file ${path} is listed twice`);
    seen.add(path);
    if (!Number.isSafeInteger(bytes) || (bytes as number) < 0) throw bad(`file ${path} has no valid size`);
    if (!isSha256(sha256)) throw bad(`file ${path} has no valid sha256`);
  }
  const files = manifest.files as readonly ManifestFile[];
  const digest = manifestDigest(files);
  if (digest !== manifest.digest) throw bad(`its files hash to ${digest}, not to the digest ${manifest.digest} it states`);
  return { datasetId, format: manifest.format, name: manifest.name, digest, files };
}
