/**
 * The speed reference of a table build. A shared or virtual machine's speed drifts: on a 2-core
 * cloud VM, idle but for the benchmark, one MobileNetV2 configuration measured five times in a row
 * took 1.39, 1.43, 1.48, 2.40 and 2.42 ms, and others drifted by 20–40% over minutes. Timed
 * alternately with a fixed reference model, the same configuration's latency over the reference's
 * stayed within ±2% (6 measurements of 50 runs each): the drift slows both alike. So every
 * measurement of a build runs this reference alongside and keeps the ratio, and the build turns
 * ratios into milliseconds with the reference's quickest time seen: the device's latency when
 * nothing else slows it, whenever it was measured.
 */
import { OnnxGraphBuilder } from '../onnx/proto';
import { Rng } from '../rng';
import { TimedSession, type ProbeSettings } from './timed-session';

const INPUT = { name: 'input', dims: [1, 32, 28, 28] } as const;

/**
 * An inverted-residual block at 28×28 (expand 32 → 96, depthwise 3×3, project back, pooled):
 * compute- and memory-bound kernels both, about 0.1 ms on one CPU core.
 */
export function referenceModel(): Uint8Array {
  const b = new OnnxGraphBuilder();
  const rng = new Rng(0x5eed);
  const weights = (hint: string, dims: readonly number[]) =>
    b.floats(hint, dims, Float32Array.from({ length: dims.reduce((a, d) => a * d, 1) }, () => rng.nextFloat() - 0.5));
  const input = b.input({ name: INPUT.name, type: 'float32', dims: [...INPUT.dims] });
  const expanded = b.op('Relu', [b.op('Conv', [input, weights('expand', [96, 32, 1, 1])], { kernel_shape: [1, 1] })]);
  const filtered = b.op('Relu', [b.op('Conv', [expanded, weights('depthwise', [96, 1, 3, 3])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 96 })]);
  const projected = b.op('Conv', [filtered, weights('project', [32, 96, 1, 1])], { kernel_shape: [1, 1] });
  b.alias(b.op('GlobalAveragePool', [projected]), 'out');
  b.output({ name: 'out', type: 'float32', dims: [1, 32, 1, 1] });
  return b.encode('speed reference');
}

export function openReference(settings: ProbeSettings): Promise<TimedSession> {
  return TimedSession.open(referenceModel(), [INPUT], settings);
}
