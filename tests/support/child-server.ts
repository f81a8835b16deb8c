/**
 * A slimlab server in its own process, for tests that kill it. SLIMLAB_TEST_EXECUTOR picks its
 * executor: the real tfjs trainer ('tfjs'), the real ONNX slimming executor ('onnx'), or one that
 * starts jobs and never finishes them, like a worker caught mid-training ('stuck', the default).
 * Prints its URL once listening.
 */
import 'reflect-metadata';
import { startServer } from '../../server/app';
import { loadConfig } from '../../server/config';
import { quietLog } from './server';
import type { ExecutorPlugin } from '../../executors/contract';
import { OnnxSlimmingPlugin } from '../../executors/onnx/slim-plugin';
import { TfjsTrainingPlugin } from '../../executors/tfjs/plugin';
import { ScriptedPlugin, TEST_TRAINING_OPTIONS } from './plugins';

const stuck = new ScriptedPlugin(['TRAIN_SUPERNET'], async (_job, ctx) => {
  await ctx.saveState({ epoch: 1 });
  await ctx.progress(0.25, 'epoch 1');
  return new Promise(() => undefined);
}, 'stuck');

const executors: Record<string, () => ExecutorPlugin> = {
  stuck: () => stuck,
  tfjs: () => new TfjsTrainingPlugin(TEST_TRAINING_OPTIONS),
  onnx: () => new OnnxSlimmingPlugin({ provider: 'cpu', threads: 1, cacheFile: null }),
};
const plugin = executors[process.env.SLIMLAB_TEST_EXECUTOR ?? 'stuck']!();

startServer(loadConfig(), { plugins: [plugin], log: quietLog }).then(
  (server) => console.log(`LISTENING ${server.url}`),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
