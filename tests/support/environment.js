/**
 * Jest's node environment gives each test file its own realm, so typed arrays that
 * onnxruntime-node's native code creates fail the `instanceof Float32Array` check in ort.Tensor.
 * Sharing the host realm's typed-array constructors with the tests makes both sides agree.
 */
const { TestEnvironment } = require('jest-environment-node');

const TYPED_ARRAYS = [
  'Float32Array', 'Float64Array', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
  'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array', 'ArrayBuffer',
];

class OrtEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}

module.exports = OrtEnvironment;
