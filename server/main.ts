import 'reflect-metadata';
import { startServer } from './app';
import { ConfigError, loadConfig } from './config';
import { DatabaseUnavailableError } from './db/preflight';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`slimlab: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const server = await startServer(config, { spawnWorker: config.embeddedWorker });
  const shutdown = (signal: string) => {
    console.log(`[slimlab] ${signal}: stopping; running jobs go back to the queue`);
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof DatabaseUnavailableError) {
    console.error(`slimlab: ${error.message}`);
    process.exit(1);
  }
  console.error('slimlab: failed to start:', error);
  process.exit(1);
});
