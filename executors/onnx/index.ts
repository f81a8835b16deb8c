export { BN_EPSILON, type BatchNormMode } from './batch-norm';
export { createEvaluator, type ConfigModel, type EvaluatorOptions, type OnnxEvaluator, type SupernetEvaluator } from './evaluator';
export { METRIC_OUTPUTS, type MetricName } from './metrics-head';
export { buildModel, channelMasks, exportStandalone, type ModelOptions } from './model';
export { maskInputName } from './network';
export { recountCost, type ModelCost } from './recount';
export { labelledImages, type EvaluationResult, type LabelledImages, type ProviderName } from './session';
export { randomWeights } from './random-weights';
