/**
 * A slimlab server in its own process, for tests that kill it. SLIMLAB_TEST_EXECUTOR picks the
 * executor of its in-process worker: the real tfjs trainer ('tfjs'), the real ONNX slimming
 * executor ('onnx'), one that starts jobs and never finishes them, like a worker caught
 * mid-training ('stuck', the default), or none at all ('none': a replica whose work is done by
 * worker processes). Prints its URL once listening.
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

const executors: Record<string, () => ExecutorPlugin[]> = {
  stuck: () => [stuck],
  tfjs: () => [new TfjsTrainingPlugin(TEST_TRAINING_OPTIONS)],
  onnx: () => [new OnnxSlimmingPlugin({ provider: 'cpu', threads: 1, cacheFile: null })],
  none: () => [],
};
const plugins = executors[process.env.SLIMLAB_TEST_EXECUTOR ?? 'stuck']!();

// The test process is gone: do not outlive it (a SIGKILLed test leaves no one to stop us).
process.once('disconnect', () => process.exit(0));

startServer(loadConfig(), { plugins, log: quietLog }).then(
  (server) => console.log(`LISTENING ${server.url}`),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
