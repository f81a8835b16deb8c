import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Api } from '../api';
import { CliError, usageError } from '../errors';
import type { Io } from '../io';
import { archiveBytes, listFolder, tarEntries } from '../tar-writer';
import { followRegistration } from './registration-progress';

export interface UploadRequest {
  readonly path: string;
  /** A project's id or name. */
  readonly project: string;
  readonly name: string;
  readonly searchFraction?: number;
  readonly splitSeed?: number;
  readonly skipCorrupt?: boolean;
}

/** Reads the upload command's options; each error names its option. */
export function uploadRequest(
  path: string,
  options: { project?: string; name?: string; 'search-fraction'?: string; 'split-seed'?: string; 'skip-corrupt'?: boolean },
): UploadRequest {
  if (!options.project) throw usageError('dataset upload needs --project <name or id>');
  if (!options.name) throw usageError('dataset upload needs --name <dataset name>');
  const fraction = options['search-fraction'];
  const searchFraction = fraction === undefined ? undefined : Number(fraction);
  if (searchFraction !== undefined && (fraction!.trim() === '' || !Number.isFinite(searchFraction))) {
    throw usageError(`--search-fraction must be a number (got "${fraction}")`);
  }
  const seed = options['split-seed'];
  const splitSeed = seed === undefined ? undefined : Number(seed);
  if (splitSeed !== undefined && (!/^\d+$/.test(seed!) || !Number.isSafeInteger(splitSeed))) {
    throw usageError(`--split-seed must be a non-negative integer (got "${seed}")`);
  }
  return { path, project: options.project, name: options.name, searchFraction, splitSeed, skipCorrupt: options['skip-corrupt'] };
}

/** What is sent: a folder tarred on the fly, or an archive file as it is. */
interface Body {
  readonly contentType: string;
  readonly bytes: number;
  /** A fresh pass over the bytes; called once to hash them and once to send them. */
  chunks(): AsyncIterable<Buffer>;
}

interface UploadedDataset {
  id: string;
  name: string;
  format: string;
  folder: string;
  trainSize: number;
  testSize: number;
  searchSize: number;
  inputChannels: number;
  inputHeight: number;
  inputWidth: number;
  numClasses: number;
}

/** Below this a transfer is quick enough that progress would only be noise. */
const PROGRESS_FROM_BYTES = 16 * 1024 * 1024;

/**
 * Uploads a dataset folder (or a .tar / .tar.gz of one) to POST /datasets/upload: one pass to hash
 * it, since the server checks the sha256 it is told up front, then one to send it. Prints the new
 * dataset's id and shape.
 */
export async function uploadDataset(api: Api, io: Io, request: UploadRequest): Promise<void> {
  const body = await bodyOf(request.path);
  const projectId = await resolveProject(api, request.project);
  const hash = createHash('sha256');
  for await (const chunk of counted(body, io, 'hashing')) hash.update(chunk);
  const query: Record<string, string> = { projectId, name: request.name };
  if (request.searchFraction !== undefined) query.searchFraction = String(request.searchFraction);
  if (request.splitSeed !== undefined) query.splitSeed = String(request.splitSeed);
  if (request.skipCorrupt) query.skipCorrupt = 'true';
  // Once the body is in, the server registers the folder, which takes a while for a large tree.
  const stop = await followRegistration(api, io, projectId, request.name);
  let d: UploadedDataset;
  try {
    ({ dataset: d } = await api.postStream<{ dataset: UploadedDataset }>(
      'datasets/upload',
      query,
      { 'content-type': body.contentType, 'content-length': String(body.bytes), 'x-content-sha256': hash.digest('hex') },
      counted(body, io, 'uploading'),
    ));
  } finally {
    stop();
  }
  io.out(
    `dataset ${d.id} "${d.name}": ${d.format}, ${d.inputChannels}×${d.inputHeight}×${d.inputWidth} images, ${d.numClasses} classes; ` +
      `${d.trainSize} training images (${d.searchSize} held out for the search), ${d.testSize} test; folder ${d.folder}\n`,
  );
}

async function bodyOf(path: string): Promise<Body> {
  const stats = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw usageError(`cannot read ${path} (${error.code ?? error.message})`);
  });
  if (stats.isDirectory()) {
    const entries = await listFolder(path);
    return { contentType: 'application/x-tar', bytes: archiveBytes(entries), chunks: () => tarEntries(entries) };
  }
  const gzip = /\.(tar\.gz|tgz)$/i.test(path);
  if (!stats.isFile() || (!gzip && !/\.tar$/i.test(path))) throw usageError(`${path} must be a folder, a .tar or a .tar.gz file`);
  return {
    contentType: gzip ? 'application/gzip' : 'application/x-tar',
    bytes: stats.size,
    chunks: () => createReadStream(path) as AsyncIterable<Buffer>,
  };
}

/** Projects are named uniquely, so a name finds one as surely as an id. */
async function resolveProject(api: Api, project: string): Promise<string> {
  const { projects } = await api.request<{ projects: { id: string; name: string }[] }>(`{ projects { id name } }`);
  const found = projects.find((p) => p.id === project) ?? projects.find((p) => p.name === project);
  if (!found) throw new CliError(`no project has the id or name "${project}"`);
  return found.id;
}

/** A pass over the body that reports how far it got on stderr, when the body is large. */
async function* counted(body: Body, io: Io, label: string): AsyncGenerator<Buffer> {
  const progress = body.bytes >= PROGRESS_FROM_BYTES ? new Progress(io, label, body.bytes) : null;
  let done = 0;
  for await (const chunk of body.chunks()) {
    done += chunk.length;
    progress?.draw(done);
    yield chunk;
  }
  progress?.end();
}

/** A redrawn line on a terminal; in a log, a line per tenth. */
class Progress {
  private lastTenth = -1;

  constructor(
    private readonly io: Io,
    private readonly label: string,
    private readonly total: number,
  ) {}

  draw(done: number): void {
    const fraction = Math.min(1, done / this.total);
    const text = `${this.label} ${megabytes(done)} of ${megabytes(this.total)} MB (${Math.floor(fraction * 100)}%)`;
    if (this.io.interactive) {
      this.io.err(`\r\x1b[2K${text}`);
      return;
    }
    const tenth = Math.floor(fraction * 10);
    if (tenth !== this.lastTenth) this.io.err(`${text}\n`);
    this.lastTenth = tenth;
  }

  end(): void {
    if (this.io.interactive) this.io.err('\n');
  }
}

function megabytes(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}
