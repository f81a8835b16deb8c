import { AutoSlimError } from './errors';

/** What a dataset fixes about a network: input resolution (square) and class count. */
export interface NetworkOptions {
  readonly inputSize: number;
  readonly numClasses: number;
}

/**
 * Limits that keep every MAC count an exact integer in float64 (below 2^53) for any accepted
 * network; far beyond what any of these architectures is used with.
 */
export const MAX_INPUT_SIZE = 1024;
export const MAX_WIDTH = 8192;

export function checkNetworkOptions(opts: NetworkOptions): void {
  checkInteger('inputSize', opts.inputSize, 1, MAX_INPUT_SIZE, 'an image has at least one pixel');
  checkInteger('numClasses', opts.numClasses, 1, MAX_WIDTH, 'a classifier needs at least one class');
}

/** Below its total stride a network's deepest layers would see nothing but padding. */
export function checkInputCoversStride(inputSize: number, totalStride: number): void {
  if (inputSize < totalStride) {
    const detail = `${inputSize} is below ${totalStride}, the factor this network strides its input down by`;
    throw new AutoSlimError('inputSize', 'minimum', detail);
  }
}

function checkInteger(field: string, value: number, min: number, max: number, why: string): void {
  if (!Number.isInteger(value)) throw new AutoSlimError(field, 'integer', `${value} is not an integer`);
  if (value < min) throw new AutoSlimError(field, 'minimum', `${value} is below ${min}: ${why}`);
  if (value > max) throw new AutoSlimError(field, 'maximum', `${value} is above ${max}`);
}
