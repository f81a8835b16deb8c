import 'reflect-metadata';
import { join } from 'node:path';
import { LatencyProbePlugin } from '../executors/latency/plugin';
import { OnnxExportPlugin } from '../executors/onnx/export-plugin';
import { OnnxSlimmingPlugin } from '../executors/onnx/slim-plugin';
import { TfjsTrainingPlugin } from '../executors/tfjs/plugin';
import { startServer } from './app';
import { ConfigError, loadConfig } from './config';

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
  const server = await startServer(config, {
    plugins: [
      new TfjsTrainingPlugin(),
      new OnnxSlimmingPlugin({
        provider: config.ortProvider,
        threads: config.ortThreads,
        cacheFile: join(config.dataDir, 'cache', 'evaluations.jsonl'),
      }),
      new OnnxExportPlugin({ provider: config.ortProvider, threads: config.ortThreads }),
      new LatencyProbePlugin({ provider: config.ortProvider, threads: config.latencyThreads }),
    ],
  });
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
  console.error('slimlab: failed to start:', error);
  process.exit(1);
});
