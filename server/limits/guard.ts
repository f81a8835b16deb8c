import {
  getOperationAST,
  GraphQLError,
  parse,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';
import { getComplexity } from 'graphql-query-complexity';
import type { ApiLimits } from '../config';
import { checkCostTable, fieldCost } from './cost';
import { measureDocument, type Shape } from './operation-shape';
import { RateLimiter } from './rate-limit';

export type LimitCode = 'QUERY_TOO_LARGE' | 'QUERY_TOO_DEEP' | 'QUERY_TOO_COMPLEX';

/** A refusal naming the limit (its environment variable) and its value. */
export function limitError(code: LimitCode, message: string, limit: string, max: number, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(`${message}; the limit is ${max} (${limit})`, { extensions: { code, limit, max, ...extensions } });
}

/** What a transport hands over: the request's GraphQL parameters, not yet trusted. */
export interface OperationRequest {
  readonly query: unknown;
  readonly variables?: unknown;
  readonly operationName?: unknown;
}

/**
 * Checks an operation against the API's limits before graphql's own validation and execution see
 * it, over HTTP and WebSocket alike. Cheap checks go first: the length before parsing, the shape
 * (linear in the document) before the cost estimate, whose walk expands every fragment spread.
 * A request it cannot read is let through, so graphql answers with its usual error.
 */
export class OperationGuard {
  private readonly mutations: RateLimiter;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly limits: ApiLimits,
  ) {
    checkCostTable(schema);
    this.mutations = new RateLimiter(limits.mutationsPerSecond, limits.mutationBurst);
  }

  /** The reasons to refuse the request, or none; `client` is whose mutation budget it spends. */
  check(request: OperationRequest, client: string): readonly GraphQLError[] {
    const { query } = request;
    if (typeof query !== 'string') return [];
    if (query.length > this.limits.maxQueryChars) {
      return [limitError('QUERY_TOO_LARGE', `the query is ${query.length} characters long`, 'SLIMLAB_MAX_QUERY_CHARS', this.limits.maxQueryChars)];
    }
    let document: DocumentNode;
    try {
      document = parse(query);
    } catch {
      return [];
    }
    // The cost walk expands every fragment spread: only a document of bounded size may reach it.
    const shapeErrors = this.checkShape(document);
    if (shapeErrors.length > 0) return shapeErrors;

    const operationName = typeof request.operationName === 'string' ? request.operationName : undefined;
    const operation = getOperationAST(document, operationName);
    if (!operation) return [];
    const complexity = Math.ceil(this.complexity(document, operationName, request.variables));
    if (complexity > this.limits.maxComplexity) {
      return [
        limitError('QUERY_TOO_COMPLEX', `the operation's estimated cost is ${complexity}`, 'SLIMLAB_MAX_QUERY_COMPLEXITY', this.limits.maxComplexity, {
          complexity,
        }),
      ];
    }
    if (operation.operation === 'mutation') {
      const wait = this.mutations.take(client);
      if (wait > 0) {
        const retryAfter = Math.ceil(wait);
        return [
          new GraphQLError(`too many mutations from this client: at most ${this.limits.mutationBurst} at once and ${this.limits.mutationsPerSecond} a second; retry in ${retryAfter} s`, {
            extensions: { code: 'RATE_LIMITED', retryAfter },
          }),
        ];
      }
    }
    return [];
  }

  private checkShape(document: DocumentNode): GraphQLError[] {
    const { maxDepth, maxFields, maxAliases, maxRootFields } = this.limits;
    const errors: GraphQLError[] = [];
    for (const { name, shape } of measureDocument(document)) {
      const over = (measure: keyof Shape, max: number) => shape[measure] > max;
      if (over('depth', maxDepth)) {
        errors.push(limitError('QUERY_TOO_DEEP', `${name} nests fields ${shape.depth} levels deep`, 'SLIMLAB_MAX_QUERY_DEPTH', maxDepth));
      }
      if (over('fields', maxFields)) {
        errors.push(limitError('QUERY_TOO_LARGE', `${name} selects ${shape.fields} fields`, 'SLIMLAB_MAX_FIELDS', maxFields));
      }
      if (over('aliases', maxAliases)) {
        errors.push(limitError('QUERY_TOO_LARGE', `${name} uses ${shape.aliases} aliases`, 'SLIMLAB_MAX_ALIASES', maxAliases));
      }
      if (!name.startsWith('fragment ') && over('rootFields', maxRootFields)) {
        errors.push(limitError('QUERY_TOO_LARGE', `${name} has ${shape.rootFields} root fields`, 'SLIMLAB_MAX_ROOT_FIELDS', maxRootFields));
      }
    }
    return errors;
  }

  /** The estimated cost; 0 when the variables do not fit the operation, which graphql then refuses. */
  private complexity(document: DocumentNode, operationName: string | undefined, variables: unknown): number {
    try {
      return getComplexity({
        schema: this.schema,
        query: document,
        operationName,
        variables: typeof variables === 'object' && variables !== null ? (variables as Record<string, unknown>) : {},
        estimators: [fieldCost],
        // The shape check already bounded the walk by SLIMLAB_MAX_FIELDS.
        maxQueryNodes: Number.POSITIVE_INFINITY,
      });
    } catch {
      return 0;
    }
  }
}
