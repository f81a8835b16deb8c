import type { TrainingRun } from '../entities';

/**
 * What makes two runs' accuracies comparable: the dataset they trained on and the recipe they
 * followed (seed aside). Runs recorded before their dataset was have a null `datasetId`; they make
 * protocols of their own and compare only with each other.
 */
export interface RunProtocol {
  readonly datasetId: string | null;
  readonly recipe: Readonly<Record<string, unknown>>;
  /** Equal for two runs exactly when their protocols are. */
  readonly key: string;
}

export function protocolOf(run: Pick<TrainingRun, 'datasetId' | 'recipe'>): RunProtocol {
  return { datasetId: run.datasetId, recipe: run.recipe, key: JSON.stringify([run.datasetId, canonicalRecipe(run.recipe)]) };
}

/**
 * A recipe as JSON with keys sorted at every level, absent and null alike (both mean the default):
 * stored recipes compare equal whatever order the database keeps their keys in.
 */
export function canonicalRecipe(recipe: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(canonical(recipe));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value).filter(([, v]) => v !== null && v !== undefined);
  return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, canonical(v)]));
}
