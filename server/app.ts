import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { ExecutorPlugin, Logger } from '../executors/contract';
import { ExecutorRegistry } from '../executors/registry';
import { Worker } from '../executors/worker';
import { BlobStore } from './artifact-store';
import type { ServerConfig } from './config';
import { openDatabase, type Orm } from './db/orm';
import { Artifact } from './entities';
import { createEventBus } from './events';
import { DatabaseJobBroker } from './jobs/database-broker';
import { EventSink } from './jobs/event-sink';
import { buildGraphQLSchema } from './schema';
import { Services, type GraphQLContext } from './services';

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly services: Services;
  readonly broker: DatabaseJobBroker;
  readonly orm: Orm;
  /** Stops the worker (running jobs go back to the queue), the server and the database. */
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly plugins?: readonly ExecutorPlugin[];
  readonly log?: Logger;
}

const consoleLog: Logger = {
  info: (message) => console.log(`[slimlab] ${message}`),
  warn: (message) => console.warn(`[slimlab] ${message}`),
};

/**
 * Starts slimlab: migrations, the GraphQL API over HTTP and WebSocket on one port, the web app at /,
 * and (embedded mode) a worker running the given executor plugins in this process.
 */
export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? consoleLog;
  const { orm, applied } = await openDatabase(config.database);
  if (applied.length > 0) log.info(`applied migrations: ${applied.join(', ')}`);
  const bus = createEventBus();
  const broker = new DatabaseJobBroker(orm, bus, new EventSink(orm, bus), log);
  const services = new Services(orm, bus, broker);
  const workerId = `${hostname()}:${process.pid}:${Date.now().toString(36)}`;

  if (config.embeddedWorker) {
    // Only this process runs jobs in embedded mode, so whatever is RUNNING was left by a dead one.
    const recovered = await broker.recoverAbandoned(() => true);
    if (recovered > 0) log.warn(`recovered ${recovered} job(s) left RUNNING by a previous server`);
  }

  const schema = await buildGraphQLSchema(bus);
  const app = express();
  const httpServer = createServer(app);
  // Longer than clients' idle keep-alive (undici: 4 s), so a client never reuses a socket the
  // server is closing; in-process training can delay timers by a whole step.
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const wsCleanup = useServer({ schema, context: (): GraphQLContext => ({ services }) }, wsServer);
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    includeStacktraceInErrorResponses: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      { serverWillStart: async () => ({ drainServer: async () => void (await wsCleanup.dispose()) }) },
    ],
  });
  await apollo.start();

  app.get('/healthz', (_req, res) => void res.json({ ok: true }));
  app.use('/graphql', express.json({ limit: '10mb' }), expressMiddleware(apollo, { context: async () => ({ services }) }));
  const blobs = new BlobStore(join(config.dataDir, 'artifacts'));
  app.get('/artifacts/:id', (req, res) => void serveArtifact(services, blobs, req.params.id, res));
  serveWebApp(app);

  const registry = new ExecutorRegistry();
  for (const plugin of options.plugins ?? []) await registry.register(plugin);
  const worker = new Worker(registry, broker, {
    workerId,
    concurrency: config.workerConcurrency,
    heartbeatMs: Math.min(10_000, (config.leaseSeconds * 1000) / 4),
    pollMs: 2_000,
    artifacts: {
      put: async (kind, name, data) => {
        const blob = await blobs.put(data);
        const em = orm.em.fork();
        const artifact = em.create(Artifact, { kind: kind as Artifact['kind'], name, ...blob });
        await em.flush();
        return { id: artifact.id, ...blob };
      },
      read: (uri) => blobs.read(uri),
    },
    log,
  });
  if (config.embeddedWorker) await worker.start();
  const reaper = setInterval(() => {
    const cutoff = Date.now() - config.leaseSeconds * 1000;
    void broker
      .recoverAbandoned((job) => (job.heartbeatAt?.getTime() ?? 0) < cutoff)
      .catch((error: unknown) => log.warn(`requeueing abandoned jobs failed: ${String(error)}`));
  }, config.leaseSeconds * 500);

  await new Promise<void>((ready) => httpServer.listen(config.port, config.host, ready));
  const port = (httpServer.address() as AddressInfo).port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  log.info(`GraphQL at ${url}/graphql (WebSocket too), web app at ${url}/, database ${config.database.kind}`);

  return {
    url,
    port,
    services,
    broker,
    orm,
    async stop() {
      clearInterval(reaper);
      await worker.stop();
      await apollo.stop();
      await closeServer(httpServer);
      await orm.close(true);
    },
  };
}

/** An artifact's bytes as a download named after the artifact; 400/404 with the reason otherwise. */
async function serveArtifact(services: Services, blobs: BlobStore, id: string, res: express.Response): Promise<void> {
  let artifact: Artifact;
  try {
    artifact = await services.exports.artifact(id);
  } catch (error) {
    const code = (error as { extensions?: { code?: string } }).extensions?.code;
    res.status(code === 'NOT_FOUND' ? 404 : 400).type('text/plain').send((error as Error).message);
    return;
  }
  try {
    res.type('application/octet-stream').attachment(artifact.name).send(await blobs.read(artifact.uri));
  } catch (error) {
    res.status(500).type('text/plain').send(`artifact ${id}: its file cannot be read: ${(error as Error).message}`);
  }
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
