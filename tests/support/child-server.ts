/**
 * A slimlab server in its own process, for tests that kill it. Its executor is the real tfjs
 * trainer when SLIMLAB_TEST_EXECUTOR=tfjs, else one that starts jobs and never finishes them, like
 * a worker caught mid-training. Prints its URL once listening.
 */
import 'reflect-metadata';
import { startServer } from '../../server/app';
import { loadConfig } from '../../server/config';
import { quietLog } from './server';
import { TfjsTrainingPlugin } from '../../executors/tfjs/plugin';
import { ScriptedPlugin, TEST_TRAINING_OPTIONS } from './plugins';

const stuck = new ScriptedPlugin(['TRAIN_SUPERNET'], async (_job, ctx) => {
  await ctx.saveState({ epoch: 1 });
  await ctx.progress(0.25, 'epoch 1');
  return new Promise(() => undefined);
}, 'stuck');

const plugin = process.env.SLIMLAB_TEST_EXECUTOR === 'tfjs' ? new TfjsTrainingPlugin(TEST_TRAINING_OPTIONS) : stuck;

startServer(loadConfig(), { plugins: [plugin], log: quietLog }).then(
  (server) => console.log(`LISTENING ${server.url}`),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
