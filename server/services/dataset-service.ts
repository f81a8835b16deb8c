import { realpath } from 'node:fs/promises';
import { basename, dirname, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import type { EntityManager } from '@mikro-orm/core';
import { DatasetFilesError } from '../../executors/data/dataset-files';
import type { DatasetLimits } from '../../executors/data/dataset-limits';
import { MAX_CLASSES } from '../../executors/data/image-folder';
import { manifestSha256, type DatasetNormalization } from '../../executors/data/manifest';
import type { RegistrationPhase } from '../../executors/data/manifest-build';
import { registerFolderInThread } from '../../executors/data/registration-thread';
import type { RegisteredDatasetSpec } from '../../executors/data/source';
import { searchSplit, splitDigest } from '../../executors/data/split';
import { ArtifactKind, DatasetFormat, ProjectRole } from '../../schema/enums';
import type { RegisterDatasetInput } from '../../schema/inputs';
import type { BlobStore, StoredBlob } from '../artifact-store';
import type { Orm } from '../db/orm';
import { Artifact, Dataset, Project } from '../entities';
import type { EventBus } from '../events';
import { badInput, userError } from '../errors';
import * as check from '../validation';
import { folderUnderRoots } from './dataset-roots';
import { findProject, inReadableProjects } from './lookup';
import type { Caller } from '../auth/caller';

/** What executors are told about a stored dataset. */
export async function datasetSpec(em: EntityManager, dataset: Dataset): Promise<RegisteredDatasetSpec> {
  await em.populate(dataset, ['manifest']);
  return {
    id: dataset.id,
    format: dataset.format,
    uri: dataset.uri,
    inputChannels: dataset.inputChannels,
    inputHeight: dataset.inputHeight,
    numClasses: dataset.numClasses,
    trainSize: dataset.trainSize,
    testSize: dataset.testSize,
    searchFraction: dataset.searchFraction,
    splitSeed: dataset.splitSeed,
    splitDigest: dataset.splitDigest,
    skipCorrupt: dataset.skipCorrupt,
    manifest: dataset.manifest ? { uri: dataset.manifest.uri, sha256: dataset.manifest.sha256 } : null,
    normalization: dataset.normalization,
  };
}

/** Dataset folders are read only under `roots`, and no further than `limits` allow. */
export interface DatasetPolicy {
  readonly roots: readonly string[];
  readonly limits: DatasetLimits;
  /**
   * Where uploaded datasets are extracted. `registerDataset` refuses folders in it (an upload is
   * registered by its upload, in its own project), and a client sees them relative to its parent.
   */
  readonly uploads: string;
}

/** Everything registration needs besides the files; checked alike for a server folder and an upload. */
export type DatasetTerms = Pick<RegisterDatasetInput, 'projectId' | 'name' | 'format' | 'classNames' | 'searchFraction' | 'splitSeed' | 'skipCorrupt'>;

/** The formats whose data are files: the ones a folder, or an upload, can hold. */
export type FileFormat = DatasetFormat.IDX | DatasetFormat.IMAGE_FOLDER | DatasetFormat.CIFAR;

/**
 * The field an error names for one of the terms, or for `path` (the files): GraphQL names
 * `input.<key>`; an upload names its query parameter, and the body for the files.
 */
export type FieldNames = (key: keyof DatasetTerms | 'path') => string;

/** The terms once checked, as registration uses them. */
interface CheckedTerms {
  readonly projectId: string;
  readonly name: string;
  readonly searchFraction: number;
  readonly splitSeed: number;
  readonly skipCorrupt: boolean;
}

const INPUT_FIELDS: FieldNames = (key) => `input.${key}`;

/**
 * Runs an inspection and turns a refusal into a BAD_USER_INPUT error on the files' field. Its
 * messages name files relative to the dataset folder; a bare file-system error names only its code,
 * since Node's message would give the server path.
 */
async function inspected<T>(field: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof DatasetFilesError) throw badInput(field, error.message);
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== undefined) throw badInput(field, `a file of the dataset cannot be read (${code})`);
    throw error;
  }
}

interface DatasetShape {
  uri: string;
  inputChannels: number;
  inputHeight: number;
  inputWidth: number;
  sizesVary: boolean;
  numClasses: number;
  trainSize: number;
  testSize: number;
  classNames?: readonly string[];
  /** Files only: the sample manifest's bytes, its statistics, and the files it left out. */
  files?: { manifest: Buffer; normalization: DatasetNormalization; skipped: number };
}

/** How far a registration has come, as subscribers of `datasetRegistration` see it. */
export interface RegistrationProgress {
  readonly projectId: string;
  readonly name: string;
  readonly phase: RegistrationPhase;
  readonly done: number;
  readonly total: number;
}

export class DatasetService {
  constructor(
    private readonly orm: Orm,
    private readonly policy: DatasetPolicy,
    private readonly blobs: BlobStore,
    private readonly bus: EventBus,
  ) {}

  /**
   * Reads the dataset's shape from its files (or its synthetic spec), then carves the search
   * hold-out, and stores both with the seed and digest that reproduce the split.
   */
  register(caller: Caller, input: RegisterDatasetInput): Promise<Dataset> {
    return this.create(caller, input, INPUT_FIELDS, (terms) => this.inspect(input, terms));
  }

  /**
   * Registers a folder the server extracted from an upload, as `register` would a folder under the
   * roots. Errors name the fields as `fields` says.
   */
  registerUpload(caller: Caller, terms: DatasetTerms & { readonly format: FileFormat }, folder: string, fields: FieldNames): Promise<Dataset> {
    return this.create(caller, terms, fields, (checked) => this.inspectFolder(terms.format, folder, fields('path'), checked));
  }

  /**
   * The checks of `registerUpload` that need no files, so an upload that would be refused for its
   * terms (a bad name, one the project already has) is refused before its body is read.
   */
  async checkUpload(caller: Caller, terms: Omit<DatasetTerms, 'format'>, fields: FieldNames): Promise<void> {
    const { name } = this.checkTerms(terms, fields);
    await this.checkVacant(this.orm.em.fork(), caller, terms.projectId, name, fields);
  }

  /**
   * Where the dataset's files are, as a client may see it: the folder's name, or `uploads/<id>` for
   * an upload; never where it is on the server. Null for SYNTHETIC.
   */
  shownFolder(dataset: Dataset): string | null {
    if (dataset.format === DatasetFormat.SYNTHETIC) return null;
    const uploaded = relative(dirname(this.policy.uploads), dataset.uri);
    return uploaded.startsWith(`${basename(this.policy.uploads)}${sep}`) ? uploaded.split(sep).join('/') : basename(dataset.uri);
  }

  /** Validates the terms, reads the shape with `shapeOf`, and stores the dataset in one transaction. */
  private async create(caller: Caller, terms: DatasetTerms, fields: FieldNames, shapeOf: (terms: CheckedTerms) => Promise<DatasetShape>): Promise<Dataset> {
    const { name, searchFraction, splitSeed } = this.checkTerms(terms, fields);
    // The caller's role first: someone who may not add datasets to the project learns nothing of the server's files.
    const { id: projectId } = await this.checkVacant(this.orm.em.fork(), caller, terms.projectId, name, fields);
    // Progress is published under the whole id, which subscribers give, whatever prefix the input gave.
    const checked = { name, searchFraction, splitSeed, projectId, skipCorrupt: terms.skipCorrupt ?? false };
    const { files, ...shape } = await shapeOf(checked);
    if (terms.classNames && terms.classNames.length !== shape.numClasses) {
      throw badInput(fields('classNames'), `must name all ${shape.numClasses} classes (got ${terms.classNames.length})`);
    }
    terms.classNames?.forEach((className, i) => check.printable(`${fields('classNames')}[${i}]`, className));
    const split = searchSplit(shape.trainSize, searchFraction, splitSeed);
    const stored = files ? await this.storeManifest(files.manifest) : null;
    return this.orm.em.fork().transactional(async (em) => {
      const project = await this.checkVacant(em, caller, projectId, name, fields);
      const manifest = stored
        ? em.create(Artifact, { project, kind: ArtifactKind.DATASET_MANIFEST, name: `${name}.manifest.json`, uri: stored.uri, bytes: stored.bytes, sha256: stored.sha256 })
        : null;
      return em.create(Dataset, {
        project,
        name,
        format: terms.format,
        ...shape,
        classNames: terms.classNames ?? (shape.classNames ? [...shape.classNames] : null),
        searchFraction,
        splitSeed,
        searchSize: split.searchIndices.length,
        splitDigest: splitDigest(split, stored?.sha256 ?? null),
        manifest,
        normalization: files?.normalization ?? null,
        skipCorrupt: checked.skipCorrupt,
        skippedFiles: files?.skipped ?? 0,
      });
    });
  }

  private storeManifest(bytes: Buffer): Promise<StoredBlob> {
    return this.blobs.putStream(Readable.from([bytes]), manifestSha256(bytes), bytes.length);
  }

  private checkTerms(terms: Omit<DatasetTerms, 'format'>, fields: FieldNames): Pick<CheckedTerms, 'name' | 'searchFraction' | 'splitSeed'> {
    return {
      name: check.name(fields('name'), terms.name),
      searchFraction: check.finite(fields('searchFraction'), terms.searchFraction, 0, 0.5, true),
      splitSeed: check.integer(fields('splitSeed'), terms.splitSeed, 0, 0xffffffff),
    };
  }

  /** The project, which must exist and not have a dataset named `name` yet. */
  private async checkVacant(em: EntityManager, caller: Caller, projectId: string, name: string, fields: FieldNames): Promise<Project> {
    const project = await findProject(em, caller, ProjectRole.EDITOR, fields('projectId'), projectId);
    if (await em.count(Dataset, { project, name })) {
      throw userError('CONFLICT', fields('name'), `project already has a dataset named "${name}"`);
    }
    return project;
  }

  async list(caller: Caller, projectId: string | null | undefined): Promise<Dataset[]> {
    const where = await inReadableProjects(caller, 'projectId', projectId);
    return this.orm.em.fork().find(Dataset, where, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  private async inspect(input: RegisterDatasetInput, terms: CheckedTerms): Promise<DatasetShape> {
    switch (input.format) {
      case DatasetFormat.SYNTHETIC: {
        const s = input.synthetic;
        if (!s) throw badInput('input.synthetic', 'is required when format is SYNTHETIC');
        return {
          uri: 'synthetic:',
          inputChannels: check.integer('input.synthetic.channels', s.channels, 1, 4),
          inputHeight: check.integer('input.synthetic.size', s.size, 4, 512),
          inputWidth: s.size,
          sizesVary: false,
          numClasses: check.integer('input.synthetic.numClasses', s.numClasses, 2, MAX_CLASSES),
          trainSize: check.integer('input.synthetic.trainSize', s.trainSize, 2, 1_000_000),
          testSize: check.integer('input.synthetic.testSize', s.testSize, 2, 1_000_000),
        };
      }
      case DatasetFormat.IMAGE_FOLDER:
      case DatasetFormat.IDX:
      case DatasetFormat.CIFAR:
        return this.inspectFolder(input.format, await this.folder(input.path), 'input.path', terms);
    }
  }

  /**
   * Reads the folder's headers into its sample manifest and computes its statistics, in a thread of
   * its own; progress goes to `datasetRegistration` subscribers of the project.
   */
  private async inspectFolder(format: FileFormat, folder: string, field: string, terms: CheckedTerms): Promise<DatasetShape> {
    const { limits } = this.policy;
    const publish = (phase: RegistrationPhase, done: number, total: number) =>
      this.bus.publish('DATASET_REGISTRATION', terms.projectId, { projectId: terms.projectId, name: terms.name, phase, done, total });
    const { shape, manifest, normalization, skipped } = await inspected(field, () =>
      registerFolderInThread(
        { format, base: folder, limits, options: { searchFraction: terms.searchFraction, splitSeed: terms.splitSeed, skipCorrupt: terms.skipCorrupt } },
        publish,
      ),
    );
    return {
      uri: folder,
      inputChannels: shape.channels,
      inputHeight: shape.height,
      inputWidth: shape.width,
      sizesVary: shape.sizesVary,
      numClasses: shape.numClasses,
      trainSize: shape.trainSize,
      testSize: shape.testSize,
      classNames: shape.classNames ?? undefined,
      files: { manifest: Buffer.from(manifest.buffer, manifest.byteOffset, manifest.byteLength), normalization, skipped },
    };
  }

  private async folder(path: string | null | undefined): Promise<string> {
    if (!path) throw badInput('input.path', 'is required for datasets stored on disk');
    check.printable('input.path', path);
    const folder = await folderUnderRoots('input.path', path, this.policy.roots);
    // An upload's folder lies under the default roots, but belongs to the project it was uploaded to.
    const uploads = await realpath(this.policy.uploads).catch(() => null);
    if (uploads !== null && (folder === uploads || folder.startsWith(uploads + sep))) {
      throw badInput('input.path', 'is a folder of uploaded datasets; an upload is registered by uploading it (POST /datasets/upload)');
    }
    return folder;
  }
}
