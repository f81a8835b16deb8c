import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../executors/contract';
import type { ClaimRequest, FinishResponse } from '../executors/protocol';
import type { JobLedger } from './jobs/ledger';
import type { Authenticator } from './auth/authenticator';
import { hasScope } from './auth/principal';
import { TokenScope } from '../schema/enums';
import { asProtocolError, ProtocolError } from '../executors/protocol-error';
import { loggableError } from './loggable-error';
import * as input from './jobs/protocol-input';

/** Batches of metric points can be large; anything bigger is refused with TOO_LARGE. */
export const MAX_PROTOCOL_BODY = '32mb';

/**
 * Access policy of every worker route: a worker secret (the embedded worker's, or
 * SLIMLAB_WORKER_TOKEN) compared in constant time, or a user's API token with scope WORKER.
 * No token is ever logged or echoed.
 */
export function requireWorkerToken(tokens: readonly string[], identities: Authenticator) {
  const digests = tokens.map(digest);
  const refused = new ProtocolError('UNAUTHENTICATED', 'a valid worker token is required (Authorization: Bearer <token>)');
  return (req: Request, _res: Response, next: NextFunction) => {
    const match = /^Bearer (\S+)$/.exec(req.get('authorization') ?? '');
    if (!match) return next(refused);
    const presented = digest(match[1]!);
    if (digests.some((d) => timingSafeEqual(d, presented))) return next();
    identities.fromToken(match[1]!).then(
      (principal) => next(principal && hasScope(principal, TokenScope.WORKER) ? undefined : refused),
      (error: unknown) => next(error),
    );
  };
}

/** The JSON routes of the worker protocol (executors/protocol.ts): register, claim, heartbeat, updates, finish. */
export function workerRoutes(ledger: JobLedger): express.Router {
  const router = express.Router();
  router.use(express.json({ limit: MAX_PROTOCOL_BODY }));

  router.post('/register', handle(async (req) => ledger.register(input.registerRequest(req.body))));

  router.post('/goodbye', handle(async (req) => {
    await ledger.goodbye(input.uuid('workerId', (req.body as { workerId?: unknown } | undefined)?.workerId));
    return { ok: true };
  }));

  router.post('/claim', handle(async (req, res) => {
    const body = req.body as Partial<ClaimRequest> | undefined;
    const workerId = input.uuid('workerId', body?.workerId);
    const waitMs = Number.isInteger(body?.waitMs) ? body!.waitMs! : 0;
    // A worker that hangs up (stopping, or its own timeout) must not be handed a job it will never see.
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    return ledger.claim(workerId, waitMs, gone.signal);
  }));

  router.post('/heartbeat', handle(async (req) => ledger.heartbeat(input.heartbeatRequest(req.body))));

  router.post('/jobs/:id/updates', handle(async (req) => {
    const body = bodyOf(req);
    await ledger.update(input.uuid('job id', req.params.id), input.leaseOf(body), input.updatesOf(body));
    return { ok: true };
  }));

  router.post('/jobs/:id/finish', handle(async (req): Promise<FinishResponse> => {
    const body = bodyOf(req);
    const claimNext = input.claimNextOf(body);
    await ledger.finish(input.uuid('job id', req.params.id), input.leaseOf(body), input.outcomeOf(body));
    if (!claimNext) return { next: null };
    // Only a job already waiting: a long-poll here would hold back the finish's answer. The finish
    // has committed, so a claim that fails here must not fail the answer: the worker claims again.
    return { next: (await ledger.claim(claimNext, 0).catch(() => ({ job: null }))).job };
  }));

  return router;
}

/** Turns any error on a worker route into a coded JSON answer; never a stack trace or a server path. */
export function protocolErrors(log: Logger) {
  return (error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const answer = asProtocolError(error) ?? fromBodyParser(error) ?? internal(error, log);
    res.status(answer.status).json(answer.toBody());
  };
}

/** express.json's refusals carry a `type`. */
function fromBodyParser(error: unknown): ProtocolError | null {
  const type = (error as { type?: unknown } | null)?.type;
  if (type === 'entity.too.large') return new ProtocolError('TOO_LARGE', `request body over ${MAX_PROTOCOL_BODY}; send smaller batches`);
  if (type === 'entity.parse.failed' || type === 'encoding.unsupported' || type === 'charset.unsupported') return new ProtocolError('BAD_REQUEST', 'body must be JSON');
  return null;
}

function internal(error: unknown, log: Logger): ProtocolError {
  log.warn(`worker route failed: ${loggableError(error)}`);
  return new ProtocolError('INTERNAL', 'the server could not complete this request; retry');
}

function bodyOf(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ProtocolError('BAD_REQUEST', 'body: must be a JSON object');
  return body as Record<string, unknown>;
}

function handle(work: (req: Request, res: Response) => Promise<unknown>) {
  return (req: Request, res: Response, next: NextFunction) => {
    work(req, res).then(
      (answer) => {
        if (!res.headersSent && !res.writableEnded) res.json(answer);
      },
      next,
    );
  };
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
