import type { Request, RequestHandler, Response } from 'express';
import { GraphQLError } from 'graphql';
import type { Logger } from '../../executors/contract';
import { isSha256 } from '../../executors/remote/digest';
import { DatasetFormat, TokenScope } from '../../schema/enums';
import type { Caller } from '../auth/caller';
import { RegisterDatasetInput } from '../../schema/inputs';
import type { Dataset } from '../entities';
import { badInput } from '../errors';
import { loggableError } from '../loggable-error';
import type { DatasetService, DatasetTerms, FieldNames, FileFormat } from '../services/dataset-service';
import * as check from '../validation';
import { CONTENT_SHA256_HEADER, detectFormat, uploadError, type DatasetUploads } from './upload';

export interface UploadRouteDeps {
  readonly datasets: DatasetService;
  readonly uploads: DatasetUploads;
  /** The largest body, and the most its archive may unpack to. */
  readonly maxUploadBytes: number;
  /** The most one file of the archive may hold. */
  readonly maxFileBytes: number;
  /** Who sent the request, as authentication (which runs before this route) found. */
  readonly callerOf: (res: Response) => Caller;
  /** Where unexpected failures are told; the client learns only that the upload failed. */
  readonly log: Pick<Logger, 'warn'>;
}

/** The upload's terms are query parameters; errors name them as they are spelled there. */
const PARAMETERS = ['projectId', 'name', 'format', 'searchFraction', 'splitSeed', 'skipCorrupt'] as const;
const UPLOAD_FIELDS: FieldNames = (key) => (key === 'path' ? 'body' : key);
/** The formats an archive can hold: every one but SYNTHETIC, which has no files. */
const UPLOAD_FORMATS: readonly FileFormat[] = [DatasetFormat.IDX, DatasetFormat.IMAGE_FOLDER, DatasetFormat.CIFAR];

const GZIP_TYPES = ['application/gzip', 'application/x-gzip'];
const TAR_TYPE = 'application/x-tar';

/** The HTTP status of each code a refusal can carry; any other failure is the server's (500). */
const STATUS: Readonly<Record<string, number>> = {
  BAD_USER_INPUT: 400,
  DIGEST_MISMATCH: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
};

/**
 * POST /datasets/upload?projectId=…&name=…[&format=IDX|IMAGE_FOLDER|CIFAR][&searchFraction=…][&splitSeed=…]
 * with a tar (application/x-tar) or gzipped tar (application/gzip) body of an IDX folder, an image
 * folder or a CIFAR folder, and its sha256 in `x-content-sha256`. Streams it to a fresh folder under
 * the uploads, then registers it as `registerDataset` would a folder: 201 with `{ dataset }`. Every
 * refusal answers `{ errors: [{ message, extensions: { code, field } }] }` and leaves nothing on disk
 * or in the database. Everything that can be checked before the body (terms, headers, access, a name
 * the project already uses) is, so a refused upload is not read.
 */
export function datasetUploadRoute(deps: UploadRouteDeps): RequestHandler {
  return async (req, res) => {
    let folder: string | null = null;
    try {
      const { format, ...terms } = uploadTerms(req);
      const gzip = isGzip(req);
      const sha256 = req.get(CONTENT_SHA256_HEADER);
      if (!isSha256(sha256)) throw uploadError('BAD_USER_INPUT', CONTENT_SHA256_HEADER, "must be the body's sha256 in 64 lowercase hex digits");
      const length = req.get('content-length');
      if (length !== undefined && Number(length) > deps.maxUploadBytes) {
        throw uploadError('PAYLOAD_TOO_LARGE', 'body', `the upload has ${length} bytes; the limit is ${deps.maxUploadBytes} (SLIMLAB_MAX_DATASET_UPLOAD_MB)`);
      }
      // Who may add datasets to the project is checked before a byte of the body is read.
      const caller = deps.callerOf(res);
      caller.requireScope(TokenScope.WRITE);
      await deps.datasets.checkUpload(caller, terms, UPLOAD_FIELDS);
      folder = await deps.uploads.receive(req, { gzip, sha256, maxBytes: deps.maxUploadBytes, maxFileBytes: deps.maxFileBytes });
      const found = format ?? (await detectFormat(folder));
      if (found === null) {
        throw badInput(
          'format',
          'the archive holds neither the IDX files (train-images-idx3-ubyte[.gz] and the others), nor CIFAR files (data_batch_1.bin and the others, or train.bin and test.bin), nor a train/ folder; which format is it?',
        );
      }
      const dataset = await deps.datasets.registerUpload(caller, { ...terms, format: found }, folder, UPLOAD_FIELDS);
      res.status(201).json({ dataset: datasetView(dataset, deps.datasets) });
    } catch (error) {
      if (folder !== null) await deps.uploads.remove(folder);
      answerError(req, res, error, deps.log);
    }
  };
}

/** The query parameters, each given at most once; defaults are registerDataset's. */
function uploadTerms(req: Request): Omit<DatasetTerms, 'format'> & { format: FileFormat | null } {
  const unknown = Object.keys(req.query).find((key) => !(PARAMETERS as readonly string[]).includes(key));
  if (unknown !== undefined) throw badInput(unknown, `is not a parameter of an upload; expected ${PARAMETERS.join(', ')}`);
  const defaults = new RegisterDatasetInput();
  const projectId = parameter(req, 'projectId');
  const name = parameter(req, 'name');
  if (projectId === undefined) throw badInput('projectId', 'is required: the id of the project the dataset joins');
  if (name === undefined) throw badInput('name', 'is required: the name of the dataset in its project');
  const format = parameter(req, 'format');
  if (format !== undefined && !(UPLOAD_FORMATS as readonly string[]).includes(format)) {
    throw badInput('format', `must be ${UPLOAD_FORMATS.join(', ')}, or left out to be read from the archive (got "${format}")`);
  }
  return {
    projectId: check.uuid('projectId', projectId),
    name,
    format: (format as FileFormat | undefined) ?? null,
    searchFraction: numeric(req, 'searchFraction') ?? defaults.searchFraction,
    splitSeed: numeric(req, 'splitSeed') ?? defaults.splitSeed,
    skipCorrupt: flag(req, 'skipCorrupt') ?? defaults.skipCorrupt,
  };
}

function parameter(req: Request, key: string): string | undefined {
  const value = req.query[key];
  if (value === undefined || typeof value === 'string') return value;
  throw badInput(key, 'must be given once');
}

/** The parameter as a number; the dataset service checks its range. */
function numeric(req: Request, key: string): number | undefined {
  const raw = parameter(req, key);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw badInput(key, `must be a number (got "${raw}")`);
  return value;
}

function isGzip(req: Request): boolean {
  const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === TAR_TYPE) return false;
  if (GZIP_TYPES.includes(type)) return true;
  throw uploadError('UNSUPPORTED_MEDIA_TYPE', 'content-type', `must be ${TAR_TYPE} for a tar, or application/gzip for a gzipped tar (got "${type}")`);
}

function datasetView(dataset: Dataset, datasets: DatasetService) {
  const { id, name, format, trainSize, testSize, searchSize, inputChannels, inputHeight, inputWidth, numClasses, splitDigest } = dataset;
  return { id, name, format, folder: datasets.shownFolder(dataset), trainSize, testSize, searchSize, inputChannels, inputHeight, inputWidth, numClasses, splitDigest };
}

function answerError(req: Request, res: Response, error: unknown, log: Pick<Logger, 'warn'>): void {
  if (res.headersSent || req.socket.destroyed) {
    // A client that hung up hears nothing; one mid-response can only be cut off.
    res.destroy();
    return;
  }
  const status = error instanceof GraphQLError ? STATUS[String(error.extensions.code)] : undefined;
  // An unread body would otherwise be drained to keep the connection; closing it stops the upload.
  if (!req.complete) res.set('connection', 'close');
  if (status !== undefined) {
    res.status(status).json({ errors: [(error as GraphQLError).toJSON()] });
    return;
  }
  log.warn(`dataset upload failed: ${loggableError(error)}`);
  res.status(500).json({ errors: [{ message: 'the server could not complete this upload; its log has the details', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
}

function flag(req: Request, key: 'skipCorrupt'): boolean | undefined {
  const value = parameter(req, key);
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false') throw badInput(key, `must be true or false (got "${value}")`);
  return value === 'true';
}
