import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { ApolloServer } from '@apollo/server';
import { LockMode } from '@mikro-orm/core';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { ExecutorPlugin, Logger } from '../executors/contract';
import { PROTOCOL_PREFIX } from '../executors/protocol';
import { ExecutorRegistry } from '../executors/registry';
import { createWorkerTransfer } from '../executors/remote/transfer';
import { SLIMLAB_VERSION } from '../executors/version';
import { Worker } from '../executors/worker';
import { BlobStore, type OpenBlob } from './artifact-store';
import type { ServerConfig } from './config';
import { openDatabase, type Orm } from './db/orm';
import { ArtifactKind, DatasetFormat, TokenScope } from '../schema/enums';
import { Authenticator } from './auth/authenticator';
import { Caller, unauthenticated } from './auth/caller';
import { SocketCredentials } from './auth/socket-credentials';
import { authenticate, requireAuthentication } from './auth/http';
import { hasScope, type Principal } from './auth/principal';
import { authRoutes } from './auth/routes';
import { ProtocolError } from '../executors/protocol-error';
import { Artifact, Dataset, User } from './entities';
import * as protocolInput from './jobs/protocol-input';
import { transferRoutes, type TransferDeps } from './transfer/routes';
import { DatasetUploads } from './datasets/upload';
import { datasetUploadRoute } from './datasets/upload-route';
import { createClusterEventBus, createEventBus, IN_PROCESS_OUTBOX } from './events';
import { EventSink } from './jobs/event-sink';
import { JobLedger } from './jobs/ledger';
import type { JobQueue } from './jobs/queue';
import { PgBossQueue } from './jobs/pgboss-queue';
import { TableQueue } from './jobs/table-queue';
import { OperationGuard } from './limits/guard';
import { bodyErrors, errorBody, guardOperations, lastErrors, notFound } from './limits/http';
import { clientKey } from './limits/rate-limit';
import { buildGraphQLSchema } from './schema';
import { Services, type GraphQLContext } from './services';
import { INTERNAL_MESSAGE, publicError } from './public-errors';
import { loggableError } from './loggable-error';
import { verifyWebSocketOrigin } from './websocket-origin';
import { protocolErrors, requireWorkerToken, workerRoutes } from './worker-api';
import { superviseWorker, type SupervisedWorker } from './worker-supervisor';

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly services: Services;
  readonly ledger: JobLedger;
  readonly orm: Orm;
  /** Stops the workers it started (their jobs go back to the queue), the server and the database. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /**
   * Executor plugins to run in a worker inside this process, speaking the worker protocol to this
   * server over loopback (tests, whose plugins are objects of their own process).
   */
  readonly plugins?: readonly ExecutorPlugin[];
  /** Spawn and supervise the worker child process (`npm start`'s embedded default). */
  readonly spawnWorker?: boolean;
  readonly log?: Logger;
}

const consoleLog: Logger = {
  info: (message) => console.log(`[slimlab] ${message}`),
  warn: (message) => console.warn(`[slimlab] ${message}`),
};

/**
 * Starts slimlab: migrations, the GraphQL API over HTTP and WebSocket on one port, the worker
 * protocol under /worker/v1, the web app at /, and (embedded default) a supervised worker child
 * process that runs the executor plugins, so no job ever runs on the API's event loop.
 */
export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? consoleLog;
  const { orm, applied } = await openDatabase(config.database);
  if (applied.length > 0) log.info(`applied migrations: ${applied.join(', ')}`);
  // PostgreSQL deployments queue through pg-boss in the same database; SQLite's job table is its own queue.
  const queue: JobQueue = config.database.kind === 'postgresql' ? new PgBossQueue(config.database.url, log) : new TableQueue();
  await queue.start();
  // Replicas on one PostgreSQL database share events through it; the embedded default keeps them in process.
  const events =
    config.database.kind === 'postgresql'
      ? await createClusterEventBus({ postgresUrl: config.database.url, log })
      : { bus: createEventBus(), outbox: IN_PROCESS_OUTBOX, close: async () => undefined };
  const { bus, outbox } = events;
  const rowLock = config.database.kind === 'postgresql' ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {};
  const ledger = new JobLedger(orm, bus, outbox, queue, new EventSink(queue), {
    leaseSeconds: config.leaseSeconds,
    rowLock,
    log,
  });
  // Uploaded datasets live with the server's data; clients see them as uploads/<id>, never by path.
  const uploads = new DatasetUploads(join(config.dataDir, 'datasets', 'uploads'));
  const datasetLimits = { maxFileBytes: config.datasetMaxFileMb * 1024 * 1024, maxImageSide: config.datasetMaxImageSide };
  const blobs = new BlobStore(join(config.dataDir, 'artifacts'));
  const services = new Services(orm, bus, queue, ledger, { roots: config.datasetRoots, limits: datasetLimits, uploads: uploads.dir }, blobs);
  // The workers this server starts itself authenticate with a token that lives only in this process and its child.
  const localToken = randomBytes(32).toString('base64url');
  const workerTokens = [localToken, ...(config.workerToken ? [config.workerToken] : [])];
  const identities = new Authenticator(orm, log);
  const callerOf = (res: express.Response) => new Caller(res.locals.principal as Principal, orm);
  // Off (local mode): no credentials are asked for, and every request is the local admin.
  const authenticator = config.auth ? identities : null;
  if (config.auth && (await orm.em.fork().count(User, {})) === 0) {
    log.warn('authentication is on and there are no users yet: create one with `slimlab admin create-user NAME --admin`');
  }

  const schema = await buildGraphQLSchema(bus);
  const app = express();
  const httpServer = createServer(app);
  // Longer than clients' idle keep-alive (undici: 4 s), so a client never reuses a socket the
  // server is closing.
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  const guard = new OperationGuard(schema, config.limits);
  // A message over maxPayload closes the socket (1009) before it is buffered, let alone parsed.
  const wsServer = new WebSocketServer({
    server: httpServer,
    path: '/graphql',
    maxPayload: config.limits.maxRequestBytes,
    verifyClient: verifyWebSocketOrigin(config.allowedOrigins),
  });
  const sockets = authenticator ? new SocketCredentials(authenticator) : null;
  const wsCleanup = useServer<Record<string, unknown> | undefined, { principal: Principal }>(
    {
      schema,
      // The connection is refused (4403) unless connection_init carries a token, or the browser's
      // session cookie came with the upgrade and the payload has its CSRF token.
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const authorization = typeof params.authorization === 'string' ? params.authorization : undefined;
        const csrf = typeof params.csrfToken === 'string' ? params.csrfToken : undefined;
        try {
          ctx.extra.principal = sockets
            ? await sockets.admit(ctx.extra.socket, ctx.extra.request, authorization, csrf)
            : await authenticate(ctx.extra.request, null, authorization, csrf);
          return hasScope(ctx.extra.principal, TokenScope.READ);
        } catch (error) {
          if (error instanceof GraphQLError) return false;
          throw error;
        }
      },
      context: (ctx): GraphQLContext => ({ services, caller: new Caller(ctx.extra.principal!, orm) }),
      // Returning nothing lets graphql-ws parse, validate and run the operation as before.
      onSubscribe: async (ctx, _id, payload) => {
        if (sockets) {
          const principal = await sockets.recheck(ctx.extra.socket);
          if (!principal) return [unauthenticated('the credential of this connection is no longer valid')];
          ctx.extra.principal = principal;
        }
        const errors = guard.check(payload, clientKey(ctx.extra.request));
        return errors.length > 0 ? errors : undefined;
      },
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map((error) => publicError(error.toJSON(), error, log)) } : undefined,
    },
    wsServer,
  );
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    includeStacktraceInErrorResponses: false,
    formatError: (formatted, error) => publicError(formatted, error, log),
    // main.ts stops everything in order on SIGTERM/SIGINT (the worker first, so its jobs are handed
    // back); Apollo's own handler would stop the API under it and re-raise the signal.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      { serverWillStart: async () => ({ drainServer: async () => void (await wsCleanup.dispose()) }) },
    ],
  });
  await apollo.start();

  // Access policy of every HTTP route: /healthz, /auth/* and the web app's files are public (the
  // sign-in needs them); /graphql, /artifacts and /datasets/upload need a credential (and then the
  // project role their service checks); /worker/v1 a worker credential.
  app.get('/healthz', (_req, res) => void res.json({ ok: true }));
  app.use('/auth', authRoutes(authenticator, log));
  app.use(
    '/graphql',
    requireAuthentication(authenticator),
    express.json({ limit: config.limits.maxRequestBytes }),
    bodyErrors(config.limits.maxRequestBytes),
    guardOperations(guard),
    expressMiddleware(apollo, { context: async ({ res }) => ({ services, caller: callerOf(res) }) }),
  );
  app.use(
    PROTOCOL_PREFIX,
    requireWorkerToken(workerTokens, identities),
    workerRoutes(ledger),
    transferRoutes(transferDeps(orm, ledger, blobs, config.maxUploadMb * 1024 * 1024, log)),
    protocolErrors(log),
  );
  app.get(
    '/artifacts/:id',
    requireAuthentication(authenticator),
    (req, res) => void serveArtifact(services, callerOf(res), blobs, String(req.params.id), res, log),
  );
  app.post(
    '/datasets/upload',
    requireAuthentication(authenticator),
    datasetUploadRoute({
      datasets: services.datasets,
      uploads,
      maxUploadBytes: config.maxDatasetUploadMb * 1024 * 1024,
      maxFileBytes: datasetLimits.maxFileBytes,
      callerOf,
      log,
    }),
  );
  serveWebApp(app);
  app.use(notFound, lastErrors(log));

  const reaper = setInterval(
    () => void ledger.reap().catch((error: unknown) => log.warn(`requeueing jobs whose lease expired failed: ${loggableError(error)}`)),
    Math.min(5_000, config.leaseSeconds * 250),
  );

  await new Promise<void>((ready) => httpServer.listen(config.port, config.host, ready));
  const port = (httpServer.address() as AddressInfo).port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  log.info(`GraphQL at ${url}/graphql (WebSocket too), web app at ${url}/, database ${config.database.kind}`);

  const loopback = `http://127.0.0.1:${port}`;
  let inProcess: Worker | null = null;
  if (options.plugins?.length) {
    const registry = new ExecutorRegistry();
    for (const plugin of options.plugins) await registry.register(plugin);
    inProcess = new Worker(registry, {
      servers: [loopback],
      token: localToken,
      concurrency: config.workerConcurrency,
      version: SLIMLAB_VERSION,
      log,
      transfer: (client) => createWorkerTransfer(client, join(config.dataDir, 'worker'), null),
    });
    await inProcess.start();
  }
  let child: SupervisedWorker | null = null;
  if (options.spawnWorker) child = superviseWorker({ server: loopback, token: localToken, config, log });

  return {
    url,
    port,
    services,
    ledger,
    orm,
    async stop() {
      clearInterval(reaper);
      sockets?.stop();
      await inProcess?.stop();
      await child?.stop();
      ledger.close();
      await apollo.stop();
      await closeServer(httpServer);
      await events.close();
      await queue.stop();
      await orm.close(true);
    },
  };
}

/** What the byte-transfer routes need from the system of record: fenced artifact registration, and where datasets are. */
function transferDeps(orm: Orm, ledger: JobLedger, blobs: BlobStore, maxUploadBytes: number, log: Logger): TransferDeps {
  const leaseOf = (jobId: string, attempt: number, token: string) => ({ jobId: protocolInput.uuid('job id', jobId), lease: { attempt, token } });
  return {
    blobs,
    maxUploadBytes,
    log,
    async authorizeUpload(jobId, attempt, token) {
      const fenced = leaseOf(jobId, attempt, token);
      await ledger.checkLease(fenced.jobId, fenced.lease);
    },
    async registerArtifact(jobId, attempt, token, kind, name, blob) {
      if (!Object.values(ArtifactKind).includes(kind as ArtifactKind)) {
        throw new ProtocolError('BAD_REQUEST', `kind must be one of ${Object.values(ArtifactKind).join(', ')}`);
      }
      const fenced = leaseOf(jobId, attempt, token);
      return ledger.registerArtifact(fenced.jobId, fenced.lease, kind as ArtifactKind, name, blob);
    },
    async datasetRoot(id) {
      const dataset = await orm.em.fork().findOne(Dataset, { id: protocolInput.uuid('dataset id', id) });
      if (!dataset || dataset.format === DatasetFormat.SYNTHETIC) throw new ProtocolError('NOT_FOUND', `dataset ${id} has no files to ship`);
      return { format: dataset.format, root: dataset.uri, contentDigest: dataset.contentDigest };
    },
    async saveDigest(id, digest) {
      await orm.em.fork().nativeUpdate(Dataset, { id }, { contentDigest: digest });
    },
  };
}

/** An artifact's bytes as a download named after the artifact; otherwise a JSON error with the reason (400, 403, 404). */
async function serveArtifact(services: Services, caller: Caller, blobs: BlobStore, id: string, res: express.Response, log: Logger): Promise<void> {
  let artifact: Artifact;
  try {
    caller.requireScope(TokenScope.READ);
    artifact = await services.exports.artifact(caller, id);
  } catch (error) {
    if (!(error instanceof GraphQLError)) {
      log.warn(`serving artifact ${id} failed: ${(error as Error).stack ?? String(error)}`);
      res.status(500).json(errorBody('INTERNAL_SERVER_ERROR', INTERNAL_MESSAGE));
      return;
    }
    const status = { NOT_FOUND: 404, FORBIDDEN: 403 }[String(error.extensions.code)] ?? 400;
    res.status(status).json({ errors: [{ message: error.message, extensions: error.extensions }] });
    return;
  }
  let blob: OpenBlob;
  try {
    blob = await blobs.openRead(artifact.sha256);
  } catch {
    res.status(500).json(errorBody('INTERNAL_SERVER_ERROR', `artifact ${id}: its file cannot be read`));
    return;
  }
  // Streamed: a checkpoint of hundreds of MB is never held in memory.
  res.type('application/octet-stream').attachment(artifact.name).set('content-length', String(blob.bytes));
  await pipeline(blob.stream, res).catch(() => res.destroy());
}

function serveWebApp(app: express.Express): void {
  const dist = resolve(__dirname, '..', '..', 'web', 'dist');
  const root = existsSync(dist) ? dist : resolve(__dirname, '..', 'web', 'dist');
  if (!existsSync(root)) {
    app.get('/', (_req, res) => void res.type('text/plain').send('slimlab: the web app is not built; the API is at /graphql'));
    return;
  }
  app.use(express.static(root));
  app.get(/^\/(?!graphql).*/, (_req, res) => res.sendFile(join(root, 'index.html')));
}

function closeServer(server: Server): Promise<void> {
  return new Promise((done) => {
    server.close(() => done());
    server.closeAllConnections();
  });
}
