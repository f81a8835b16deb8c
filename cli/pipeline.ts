import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse, YAMLParseError } from 'yaml';
import { AutoSlimError, DEFAULT_DIVISOR, DEFAULT_GROUPS, architectureInfo, defaultChannels, parseArchitecture } from '../autoslim';
import { resolveSearchSpace } from '../executors/search-space';
import { usageError } from './errors';
import { boolean, integer, list, number, object, oneOf, optional, ShapeError, text, type Check } from './shape';

/** "6M", "350k", "1.2G" or a plain number: budgets are easier to read with a suffix. */
const SUFFIXES: Record<string, number> = { k: 1e3, K: 1e3, M: 1e6, G: 1e9 };

const budget: Check<number> = (value, field) => {
  const match = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([kKMG]?)\s*$/.exec(value) : null;
  const parsed = match ? Number(match[1]) * (SUFFIXES[match[2]!] ?? 1) : value;
  if (typeof parsed === 'number' && Number.isFinite(parsed) && parsed > 0) return parsed;
  throw new ShapeError(`${field} must be a positive number, optionally with a k, M or G suffix (got ${JSON.stringify(value)})`);
};

const project = object({ name: text, description: optional(text) });

const dataset = object({
  name: text,
  format: oneOf('IDX', 'IMAGE_FOLDER', 'CIFAR', 'SYNTHETIC'),
  path: optional(text),
  skipCorrupt: optional(boolean),
  searchFraction: optional(number(0, 1)),
  splitSeed: optional(integer(0)),
  classNames: optional(list(text)),
  synthetic: optional(
    object({
      numClasses: optional(integer(2)),
      trainSize: optional(integer(1)),
      testSize: optional(integer(1)),
      channels: optional(integer(1)),
      size: optional(integer(1)),
    }),
  ),
});

const searchSpace = object({
  name: text,
  architecture: text,
  maxWidth: optional(number(0)),
  // The server's limits, so that a pipeline it would refuse fails before anything is created.
  groups: optional(integer(1, 64)),
  divisor: optional(integer(1, 64)),
  inputSize: optional(integer(1)),
  numClasses: optional(integer(2, 100_000)),
});

const sharedRecipe = {
  batchSize: optional(integer(1)),
  epochs: optional(integer(1)),
  imagesPerEpoch: optional(integer(1)),
  labelSmoothing: optional(number(0, 1)),
  learningRate: optional(number(0)),
  momentum: optional(number(0, 1)),
  schedule: optional(oneOf('linear', 'cosine', 'step')),
  warmupEpochs: optional(number(0)),
  weightDecay: optional(number(0)),
  cropPadding: optional(integer(0)),
  horizontalFlip: optional(boolean),
  cropScaleMin: optional(number(0, 1)),
  evalCropRatio: optional(number(0, 1)),
};

const supernet = object({
  name: text,
  recipe: optional(
    object({
      ...sharedRecipe,
      distillation: optional(oneOf('soft', 'hard+kl', 'off')),
      randomConfigs: optional(integer(0)),
      seed: optional(integer(0)),
    }),
  ),
});

const slimming = object({
  constraint: optional(oneOf('MACS', 'PARAMS')),
  targets: list(budget, 1, 64),
  evalBatchSize: optional(integer(1)),
  evalSeed: optional(integer(0)),
  evalBatches: optional(integer(1)),
  bnMode: optional(oneOf('BATCH_STATS', 'RECALIBRATED')),
  /** One trajectory per mode, each walked from the same supernet; instead of bnMode. */
  bnModes: optional(list(oneOf('BATCH_STATS', 'RECALIBRATED'), 1, 2)),
  calibrationImages: optional(integer(2)),
  calibrationSeed: optional(integer(0)),
  minWidthFraction: optional(number(0, 1)),
  scoring: optional(oneOf('ACCURACY', 'ACCURACY_DROP_PER_COST')),
  screenBatchSize: optional(integer(2)),
  screenKeep: optional(integer(1)),
});

/** `match`: one uniform baseline per budget of each trajectory, its MACs as close as fits. */
const uniformWidths: Check<number[] | 'match'> = (value, field) => {
  if (value === 'match') return 'match';
  if (!Array.isArray(value)) throw new ShapeError(`${field} must be a list of width multipliers, or match (got ${JSON.stringify(value)})`);
  return list(number(0), 1, 64)(value, field);
};

const retrain = object({
  seeds: optional(list(integer(0), 1, 16)),
  uniform: optional(uniformWidths),
  recipe: optional(object(sharedRecipe)),
});

/** A ranking study of the supernet; its seeds and recipe default to the retraining's, its evaluation to the slimming's. */
const study = object({
  sampledConfigs: optional(integer(0, 64)),
  sampleSeed: optional(integer(0)),
  seeds: optional(list(integer(0), 1, 16)),
  evalBatches: optional(integer(1, 16)),
  calibrationImages: optional(integer(2)),
  recipe: optional(object(sharedRecipe)),
});

const document = object({
  project: (value, field) => (typeof value === 'string' ? { name: text(value, field), description: undefined } : project(value, field)),
  dataset,
  searchSpace,
  supernet,
  slimming,
  retrain: optional(retrain),
  study: optional(study),
});

export type Pipeline = ReturnType<typeof document>;

/** Reads and validates a pipeline file; every error names the file and the field. */
export function loadPipeline(file: string): Pipeline {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    throw usageError(`cannot read pipeline ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let raw: unknown;
  try {
    raw = parse(source);
  } catch (error) {
    if (error instanceof YAMLParseError) throw usageError(`${file} is not valid YAML: ${error.message}`);
    throw error;
  }
  try {
    return withResolvedPaths(document(raw, ''), dirname(resolve(file)));
  } catch (error) {
    if (error instanceof ShapeError) throw usageError(`${file}: ${error.message}`);
    throw error;
  }
}

/** The server reads dataset files itself, so a path relative to the pipeline file is made absolute. */
function withResolvedPaths(pipeline: Pipeline, base: string): Pipeline {
  const { dataset: data } = pipeline;
  const files = data.format !== 'SYNTHETIC';
  if (files && data.path === undefined) throw new ShapeError(`dataset.path is required when dataset.format is ${data.format}`);
  if (!files && data.path !== undefined) throw new ShapeError('dataset.path must be left out when dataset.format is SYNTHETIC');
  if (files && data.synthetic !== undefined) throw new ShapeError('dataset.synthetic only applies when dataset.format is SYNTHETIC');
  if (!files && data.skipCorrupt !== undefined) throw new ShapeError('dataset.skipCorrupt only applies to datasets stored in files');
  if (pipeline.slimming.bnMode !== undefined && pipeline.slimming.bnModes !== undefined) {
    throw new ShapeError('slimming.bnMode and slimming.bnModes: give one of them');
  }
  if (pipeline.study && !pipeline.retrain && (!pipeline.study.seeds || !pipeline.study.recipe)) {
    throw new ShapeError('study.seeds and study.recipe are required when there is no retrain section to take them from');
  }
  return { ...pipeline, dataset: { ...data, path: data.path === undefined ? undefined : resolve(base, data.path) } };
}

/**
 * What can be checked before the pipeline creates anything on the server, so that a typo leaves
 * no empty project or dataset behind: the search space, derived as the server will derive it, and
 * that the dataset's files are there (the server reads them from the same path).
 */
export function checkBeforeCreating(pipeline: Pipeline, file: string): void {
  try {
    resolvePipelineSpace(pipeline.searchSpace);
  } catch (error) {
    if (!(error instanceof AutoSlimError)) throw error;
    const field = SPACE_FIELDS[error.field] ?? error.field;
    throw usageError(`${file}: searchSpace.${field}: ${error.message.slice(`${error.field}: ${error.rule}: `.length)}`);
  }
  const { path } = pipeline.dataset;
  if (path !== undefined && !existsSync(path)) throw usageError(`${file}: dataset.path: nothing at ${path}`);
}

/** autoslim/'s names for the fields of a search space section. */
const SPACE_FIELDS: Record<string, string> = {
  width: 'maxWidth',
  'unitOptions.default.groups': 'groups',
  'unitOptions.default.divisor': 'divisor',
};

function resolvePipelineSpace(space: Pipeline['searchSpace']): void {
  const architecture = parseArchitecture(space.architecture);
  const info = architectureInfo(architecture);
  const options = { inputSize: space.inputSize ?? info.defaultInputSize, numClasses: space.numClasses ?? info.defaultNumClasses };
  const maxChannels = defaultChannels(architecture, space.maxWidth ?? info.defaultStartWidth, options);
  resolveSearchSpace({
    architecture,
    ...options,
    maxChannels,
    groups: space.groups ?? DEFAULT_GROUPS,
    divisor: space.divisor ?? DEFAULT_DIVISOR,
    unitOverrides: {},
  });
}
