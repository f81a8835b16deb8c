import * as tf from '@tensorflow/tfjs-core';
import { selectTrainingBackend } from '../../../executors/tfjs/backend';

describe('selectTrainingBackend', () => {
  it('falls back to wasm with its training kernels when the native packages are absent', async () => {
    const lines: string[] = [];
    const choice = await selectTrainingBackend((line) => lines.push(line));
    expect(choice.backend).toBe('wasm');
    expect(choice.reason).toMatch(/@tensorflow\/tfjs-node-gpu: Cannot find module/);
    expect(choice.reason).toMatch(/@tensorflow\/tfjs-node: Cannot find module/);
    expect(lines).toEqual([`tfjs training backend: wasm (${choice.reason})`]);
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });
});
