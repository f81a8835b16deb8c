/**
 * Scores logits inside the graph, so a run returns three scalars instead of a batch of logits
 * (on a GPU provider only those cross back to the host).
 */
import type { OnnxGraphBuilder } from './proto';

export const METRIC_OUTPUTS = ['top1', 'top5', 'loss'] as const;
export type MetricName = (typeof METRIC_OUTPUTS)[number];

/** TensorProto.DataType.FLOAT, the target of Cast. */
const FLOAT = 1;

/**
 * The output holding `metric` of head `head` of a model with `heads` metric heads: a model of one
 * network keeps the plain names; one of several (buildJointMetricsModel) numbers them.
 */
export function metricOutputName(metric: MetricName, head: number, heads: number): string {
  return heads === 1 ? metric : `${metric}.${head}`;
}

/**
 * Adds outputs top1 and top5 (correct counts) and loss (summed cross-entropy), all float32
 * scalars, named by metricOutputName.
 */
export function emitMetricsHead(b: OnnxGraphBuilder, logits: string, labels: string, classes: number, head = 0, heads = 1): void {
  const axis1 = b.int64s('axis1', [1], [1]);
  const column = b.op('Unsqueeze', [labels, axis1]);
  const countTrue = (matches: string): string => b.op('ReduceSum', [b.op('Cast', [matches], { to: FLOAT })], { keepdims: 0 });

  const predicted = b.op('ArgMax', [logits], { axis: 1, keepdims: 1 });
  b.alias(countTrue(b.op('Equal', [predicted, column])), metricOutputName('top1', head, heads));

  const k = Math.min(5, classes);
  const [, topIndices] = b.opOutputs('TopK', [logits, b.int64s('k', [1], [k])], { axis: 1 }, 2);
  b.alias(countTrue(b.op('Equal', [topIndices, column])), metricOutputName('top5', head, heads));

  const logProbabilities = b.op('LogSoftmax', [logits], { axis: 1 });
  const picked = b.op('GatherElements', [logProbabilities, column], { axis: 1 });
  b.alias(b.op('Neg', [b.op('ReduceSum', [picked], { keepdims: 0 })]), metricOutputName('loss', head, heads));

  for (const metric of METRIC_OUTPUTS) b.output({ name: metricOutputName(metric, head, heads), type: 'float32', dims: [] });
}
