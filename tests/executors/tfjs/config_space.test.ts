import * as tf from '@tensorflow/tfjs-core';
import { buildGraph, buildUnitTable, defaultChannels } from '../../../autoslim';
import { selectTrainingBackend } from '../../../executors/tfjs/backend';
import { unitTableSpace } from '../../../executors/tfjs/config_space';
import { Rng } from '../../../executors/rng';
import { SlimmableNetwork } from '../../../executors/tfjs/supernet';

const OPTS = { inputSize: 28, numClasses: 10 };

describe('unitTableSpace', () => {
  const structure = defaultChannels('mbv2-fmnist', 1.0, OPTS);
  const space = unitTableSpace(buildUnitTable('mbv2-fmnist', structure, OPTS));

  it('spans the supernet: widest is the structure, narrowest is narrower everywhere', () => {
    expect(space.widest).toEqual(buildGraph('mbv2-fmnist', structure, OPTS));
    space.narrowest.nodes.forEach((node, i) => {
      expect(node.name).toBe(space.widest.nodes[i]!.name);
      expect(node.outShape.channels).toBeLessThanOrEqual(space.widest.nodes[i]!.outShape.channels);
    });
    expect(space.narrowest.nodes[0]!.outShape.channels).toBeLessThan(space.widest.nodes[0]!.outShape.channels);
  });

  it('samples different configs reproducibly from the rng state', () => {
    const a = Array.from({ length: 3 }, ((rng) => () => space.sample(rng))(new Rng(5)));
    const b = Array.from({ length: 3 }, ((rng) => () => space.sample(rng))(new Rng(5)));
    expect(a).toEqual(b);
    expect(a[0]).not.toEqual(a[1]);
  });

  it('yields configs the supernet runs', async () => {
    await selectTrainingBackend(() => undefined);
    const net = new SlimmableNetwork(space.widest, 1);
    const x = tf.zeros([2, 28, 28, 1]) as tf.Tensor4D;
    for (const config of [space.narrowest, space.sample(new Rng(9))]) {
      const logits = net.forward(config, x, 'batch');
      expect(logits.shape).toEqual([2, 10]);
      logits.dispose();
    }
    x.dispose();
    net.dispose();
  });
});
