import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { GraphQLError } from 'graphql';
import type { Logger } from '../../executors/contract';
import type { OperationGuard, OperationRequest } from './guard';
import { clientKey } from './rate-limit';

/** The body GraphQL clients already parse, for errors that never reach graphql. */
export function errorBody(code: string, message: string) {
  return { errors: [{ message, extensions: { code } }] };
}

/** Refuses, with graphql's error shape, an operation over the API's limits before Apollo parses it. */
export function guardOperations(guard: OperationGuard): RequestHandler {
  return (req, res, next) => {
    const errors = guard.check(operationOf(req), clientKey(req));
    if (errors.length === 0) return next();
    const rateLimited = errors.find((error) => error.extensions.code === 'RATE_LIMITED');
    if (rateLimited) res.set('retry-after', String(rateLimited.extensions.retryAfter));
    res.status(rateLimited ? 429 : 400).json({ errors: errors.map((error: GraphQLError) => error.toJSON()) });
  };
}

/** A POST's JSON body, or a GET's query string (whose variables are JSON text). */
function operationOf(req: Request): OperationRequest {
  if (req.method !== 'GET') {
    const body: unknown = req.body;
    return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as OperationRequest) : { query: undefined };
  }
  const { query, variables, operationName } = req.query;
  let parsed: unknown;
  try {
    parsed = typeof variables === 'string' ? JSON.parse(variables) : undefined;
  } catch {
    parsed = undefined;
  }
  return { query, variables: parsed, operationName };
}

/** The JSON body parser's refusals (malformed, too large, unknown charset) as GraphQL errors. */
export function bodyErrors(maxRequestBytes: number) {
  return (error: unknown, _req: Request, res: Response, next: NextFunction) => {
    const type = (error as { type?: string }).type;
    if (type === 'entity.too.large') {
      res.status(413).json(errorBody('BAD_REQUEST', `the request body is larger than ${maxRequestBytes / 1024} KB (SLIMLAB_MAX_REQUEST_KB)`));
    } else if (type === 'entity.parse.failed') {
      res.status(400).json(errorBody('BAD_REQUEST', 'the request body is not valid JSON'));
    } else if (type?.startsWith('entity.') || type?.endsWith('.unsupported')) {
      res.status(400).json(errorBody('BAD_REQUEST', 'the request body must be JSON in UTF-8'));
    } else {
      next(error);
    }
  };
}

/** Routes nobody serves answer JSON, not express's HTML page. */
export function notFound(_req: Request, res: Response): void {
  res.status(404).json(errorBody('NOT_FOUND', 'no such route'));
}

/**
 * The last error handler: express's own would answer an HTML page with the stack trace and the
 * server's install paths. The details go to the log; the client learns only that it failed.
 */
export function lastErrors(log: Logger) {
  return (error: unknown, req: Request, res: Response, next: NextFunction) => {
    // Express can only end a response whose headers are out by destroying it.
    if (res.headersSent) return next(error);
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json(errorBody('BAD_REQUEST', 'the request could not be read'));
      return;
    }
    log.warn(`${req.method} ${req.path} failed: ${String((error as Error)?.stack ?? error)}`);
    res.status(500).json(errorBody('INTERNAL_SERVER_ERROR', 'the server could not complete this request'));
  };
}
