/**
 * Classification losses of supernet training: label-smoothed cross-entropy for the hard labels
 * and the in-place distillation losses that teach narrower configs from the widest one.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * 'soft': non-widest configs learn only from the widest config's softmax (the reference code);
 * 'hard+kl': hard loss plus KL(teacher ‖ student) at temperature 1 (mmrazor); 'off': hard loss.
 */
export const DISTILLATION_MODES = ['soft', 'hard+kl', 'off'] as const;
export type DistillationMode = (typeof DISTILLATION_MODES)[number];

/** Cross-entropy against targets that put 1−ε on the label and ε/(C−1) on every other class. */
export function smoothedCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, smoothing: number): tf.Scalar {
  const classes = logits.shape[1];
  if (!(smoothing >= 0 && smoothing < 1)) throw new Error(`labelSmoothing must be in [0, 1), got ${smoothing}`);
  const offTarget = classes > 1 ? smoothing / (classes - 1) : 0;
  const oneHot = tf.oneHot(tf.cast(labels, 'int32'), classes);
  const targets = tf.add(tf.mul(oneHot, 1 - smoothing - offTarget), offTarget);
  return softCrossEntropy(logits, targets);
}

/** Mean over the batch of −Σ p·log softmax(logits). */
export function softCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), 1))) as tf.Scalar;
}

/** Mean over the batch of KL(p ‖ softmax(logits)) = Σ p·(log p − log softmax(logits)). */
export function klDivergence(logits: tf.Tensor2D, teacherProbs: tf.Tensor2D): tf.Scalar {
  const teacherLog = tf.log(tf.maximum(teacherProbs, 1e-12));
  return tf.mean(tf.sum(tf.mul(teacherProbs, tf.sub(teacherLog, tf.logSoftmax(logits))), 1));
}

/**
 * The loss of a non-widest config. `teacherProbs` is the widest config's softmax on the same
 * batch, already detached (computed outside this config's gradient tape).
 */
export function studentLoss(
  mode: DistillationMode,
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  teacherProbs: tf.Tensor2D,
  smoothing: number,
): tf.Scalar {
  switch (mode) {
    case 'off':
      return smoothedCrossEntropy(logits, labels, smoothing);
    case 'soft':
      return softCrossEntropy(logits, teacherProbs);
    case 'hard+kl':
      return tf.add(smoothedCrossEntropy(logits, labels, smoothing), klDivergence(logits, teacherProbs));
  }
}
