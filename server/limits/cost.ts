import { getNullableType, isListType, type GraphQLSchema } from 'graphql';
import type { ComplexityEstimator } from 'graphql-query-complexity';

/**
 * Rows a list field is assumed to return when no `first` argument bounds it: the cost of a list is
 * this times the cost of one element, so nested lists multiply the way their execution does.
 */
export const ASSUMED_LIST_SIZE = 10;

interface FieldCost {
  /** The field's own cost, instead of 1: work beyond reading a row. */
  readonly cost?: number;
  /** Elements the list is assumed to hold, instead of `first` or ASSUMED_LIST_SIZE. */
  readonly listSize?: number;
}

/** `Type.field` whose cost is not the default. */
const FIELD_COSTS: Readonly<Record<string, FieldCost>> = {
  // Builds the architecture's graph and counts every layer (about 5 ms for resnet-50).
  'Query.profile': { cost: 50 },
  // One row per layer: about 50 for resnet-50, a few hundred for the largest architectures.
  'Profile.perLayer': { listSize: 100 },
  // Reproduces the seeded split of the whole training set (ImageNet: 1.28 M indices).
  'Dataset.searchIndices': { cost: 50 },
  // Reads a run's every metric row and downsamples them.
  'Query.runHistory': { cost: 20 },
  // The connection's `first` already multiplied its edges.
  'CandidateConnection.edges': { listSize: 1 },
  // Up to 64 sampled configurations besides the uniform and AutoSlim candidates.
  'RankingStudy.configs': { listSize: 100 },
  // τ and ρ per BN mode, each bootstrapped with 2,000 resamples of the configurations.
  'RankingStudy.correlations': { cost: 20, listSize: 2 },
  // One per BN mode.
  'RankingStudyConfig.scores': { listSize: 2 },
};

/**
 * Introspection reads the schema in memory, about a tenth of a field that reads the database; it is
 * still priced, since `fields { type { fields ... } }` fans out as fast as any list.
 */
const INTROSPECTION_COST = 0.1;

/**
 * The estimator of graphql-query-complexity: a field costs 1 (or its FIELD_COSTS cost) plus its
 * selection times the elements it returns: `first` when it takes one, or the assumed list size.
 */
export const fieldCost: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  const known = FIELD_COSTS[`${type.name}.${field.name}`];
  const introspection = type.name.startsWith('__') || field.name.startsWith('__');
  const own = known?.cost ?? (introspection ? INTROSPECTION_COST : 1);
  const first = typeof args.first === 'number' ? Math.max(args.first, 0) : undefined;
  const isList = isListType(getNullableType(field.type));
  const elements = known?.listSize ?? first ?? (isList ? ASSUMED_LIST_SIZE : 1);
  return own + elements * childComplexity;
};

/** Fails at start-up when the cost table names a field the schema no longer has. */
export function checkCostTable(schema: GraphQLSchema): void {
  for (const key of Object.keys(FIELD_COSTS)) {
    const [typeName, fieldName] = key.split('.') as [string, string];
    const type = schema.getType(typeName);
    const fields = type && 'getFields' in type ? type.getFields() : {};
    if (!(fieldName in fields)) throw new Error(`server/limits/cost.ts prices ${key}, which the schema does not have`);
  }
}
