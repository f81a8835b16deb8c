/**
 * Assembles an ONNX model with onnx-proto. Everything above this module speaks in tensor names
 * and operators; this one owns the protobuf details (data types, attribute kinds, raw data).
 */
import { endianness } from 'node:os';
import { onnx } from 'onnx-proto';

/** ai.onnx opset 17: the last one where ReduceMean takes `axes` as an attribute. */
export const OPSET = 17;
/** IR version 8 goes with opset 17 (ONNX 1.12+); ORT 1.30 accepts up to 13. */
const IR_VERSION = 8;

/** Integers and integer lists are INT/INTS; a float attribute says so, since 1.0 would read as an int. */
export type Attribute = number | readonly number[] | string | { readonly float: number };

export interface ValueSpec {
  readonly name: string;
  readonly type: 'float32' | 'int64';
  /** A string names a symbolic dimension, such as the batch. */
  readonly dims: readonly (number | string)[];
}

const DATA_TYPE = { float32: onnx.TensorProto.DataType.FLOAT, int64: onnx.TensorProto.DataType.INT64 };

export class OnnxGraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly usedNames = new Set<string>();

  /** A fresh tensor name derived from `hint`, unique within the graph. */
  name(hint: string): string {
    let candidate = hint;
    for (let i = 1; this.usedNames.has(candidate); i++) candidate = `${hint}_${i}`;
    this.usedNames.add(candidate);
    return candidate;
  }

  input(spec: ValueSpec): string {
    this.claim(spec.name);
    this.inputs.push(valueInfo(spec));
    return spec.name;
  }

  output(spec: ValueSpec): void {
    this.outputs.push(valueInfo(spec));
  }

  /** A float32 constant stored as little-endian raw bytes (much faster to encode than floatData). */
  floats(hint: string, dims: readonly number[], values: Float32Array): string {
    const name = this.name(hint);
    this.initializers.push({ name, dims: [...dims], dataType: DATA_TYPE.float32, rawData: littleEndianBytes(values) });
    return name;
  }

  int64s(hint: string, dims: readonly number[], values: readonly number[]): string {
    const name = this.name(hint);
    const raw = new Uint8Array(values.length * 8);
    const view = new DataView(raw.buffer);
    values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
    this.initializers.push({ name, dims: [...dims], dataType: DATA_TYPE.int64, rawData: raw });
    return name;
  }

  scalar(hint: string, value: number): string {
    return this.floats(hint, [], Float32Array.of(value));
  }

  /** Adds one node and returns the name of its first output. */
  op(opType: string, inputs: readonly string[], attributes: Record<string, Attribute> = {}, outputCount = 1): string {
    return this.opOutputs(opType, inputs, attributes, outputCount)[0];
  }

  opOutputs(opType: string, inputs: readonly string[], attributes: Record<string, Attribute>, outputCount: number): string[] {
    const outputs = Array.from({ length: outputCount }, () => this.name(opType.toLowerCase()));
    this.nodes.push({
      opType,
      name: this.name(`node_${opType}`),
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    });
    return outputs;
  }

  /** Makes `tensor` available under `name` as well (graph outputs need fixed names). */
  alias(tensor: string, name: string): void {
    this.claim(name);
    this.nodes.push({ opType: 'Identity', name: this.name(`node_${name}`), input: [tensor], output: [name] });
  }

  /** `metadata` becomes the model's metadata_props, key by key. */
  encode(graphName: string, metadata: Readonly<Record<string, string>> = {}): Uint8Array {
    const model: onnx.IModelProto = {
      irVersion: IR_VERSION,
      producerName: 'slimlab',
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
      opsetImport: [{ domain: '', version: OPSET }],
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
    return onnx.ModelProto.encode(model).finish();
  }

  private claim(name: string): void {
    if (this.usedNames.has(name)) throw new Error(`onnx graph: tensor name ${name} is already used`);
    this.usedNames.add(name);
  }
}

function littleEndianBytes(values: Float32Array): Uint8Array {
  if (endianness() === 'LE') return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const raw = new Uint8Array(values.byteLength);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return raw;
}

function valueInfo(spec: ValueSpec): onnx.IValueInfoProto {
  return {
    name: spec.name,
    type: {
      tensorType: {
        elemType: DATA_TYPE[spec.type],
        shape: { dim: spec.dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

function attribute(name: string, value: Attribute): onnx.IAttributeProto {
  const kind = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: kind.STRING, s: Buffer.from(value, 'utf8') };
  if (typeof value === 'number') return { name, type: kind.INT, i: value };
  if ('float' in value) return { name, type: kind.FLOAT, f: value.float };
  return { name, type: kind.INTS, ints: [...value] };
}
