/**
 * Scores logits inside the graph, so a run returns three scalars instead of a batch of logits
 * (on a GPU provider only those cross back to the host).
 */
import type { OnnxGraphBuilder } from './proto';

export const METRIC_OUTPUTS = ['top1', 'top5', 'loss'] as const;
export type MetricName = (typeof METRIC_OUTPUTS)[number];

/** TensorProto.DataType.FLOAT, the target of Cast. */
const FLOAT = 1;

/** Adds outputs top1 and top5 (correct counts) and loss (summed cross-entropy), all float32 scalars. */
export function emitMetricsHead(b: OnnxGraphBuilder, logits: string, labels: string, classes: number): void {
  const axis1 = b.int64s('axis1', [1], [1]);
  const column = b.op('Unsqueeze', [labels, axis1]);
  const countTrue = (matches: string): string => b.op('ReduceSum', [b.op('Cast', [matches], { to: FLOAT })], { keepdims: 0 });

  const predicted = b.op('ArgMax', [logits], { axis: 1, keepdims: 1 });
  b.alias(countTrue(b.op('Equal', [predicted, column])), 'top1');

  const k = Math.min(5, classes);
  const [, topIndices] = b.opOutputs('TopK', [logits, b.int64s('k', [1], [k])], { axis: 1 }, 2);
  b.alias(countTrue(b.op('Equal', [topIndices, column])), 'top5');

  const logProbabilities = b.op('LogSoftmax', [logits], { axis: 1 });
  const picked = b.op('GatherElements', [logProbabilities, column], { axis: 1 });
  b.alias(b.op('Neg', [b.op('ReduceSum', [picked], { keepdims: 0 })]), 'loss');

  for (const name of METRIC_OUTPUTS) b.output({ name, type: 'float32', dims: [] });
}
