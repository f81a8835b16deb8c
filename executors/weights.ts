/**
 * Supernet weights as the engines exchange them, and their file format.
 *
 * Names follow the layer graph (autoslim/graph.ts): `<node>.weight` for a conv, in OIHW layout
 * [out, in / groups, kh, kw] as PyTorch and ONNX store it; `<node>.bn.gamma`, `.bn.beta`,
 * `.bn.mean`, `.bn.var` for its batch norm; `<node>.weight` [out, in] and `<node>.bias` [out] for
 * a linear layer. Tensors are stored at maximum width; a configuration uses the first k entries
 * of every axis that carries channels.
 *
 * Files are safetensors (an 8-byte little-endian header length, a JSON header, raw little-endian
 * data), so a checkpoint opens in PyTorch with `safetensors.torch.load_file`.
 */

export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export type WeightMap = ReadonlyMap<string, Tensor>;

export interface SafetensorsFile {
  readonly tensors: WeightMap;
  /** String-valued metadata, as the format allows (`__metadata__`). */
  readonly metadata: Readonly<Record<string, string>>;
}

const HEADER_ALIGN = 8;

export function encodeSafetensors(tensors: WeightMap, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const names = [...tensors.keys()].sort();
  for (const name of names) {
    const t = tensors.get(name)!;
    checkShape(name, t);
    const bytes = t.data.length * 4;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Padding the header keeps every tensor 8-byte aligned, which lets readers map it directly.
  json += ' '.repeat((HEADER_ALIGN - (Buffer.byteLength(json) % HEADER_ALIGN)) % HEADER_ALIGN);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const t = tensors.get(name)!;
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, at);
    at += t.data.byteLength;
  }
  return out;
}

export function decodeSafetensors(file: Buffer): SafetensorsFile {
  if (file.length < 8) throw new Error('safetensors: file shorter than its 8-byte header length');
  const headerLength = Number(file.readBigUInt64LE(0));
  if (8 + headerLength > file.length) throw new Error('safetensors: header length exceeds the file');
  const header = JSON.parse(file.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  const base = 8 + headerLength;
  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets: [begin, end] } = entry as {
      dtype: string;
      shape: number[];
      data_offsets: [number, number];
    };
    if (dtype !== 'F32') throw new Error(`safetensors: tensor ${name} has dtype ${dtype}; only F32 is supported`);
    if (base + end > file.length || end - begin !== shape.reduce((a, b) => a * b, 1) * 4) {
      throw new Error(`safetensors: tensor ${name} has offsets that do not match its shape or the file`);
    }
    // Copy out so the tensor owns aligned memory independent of the file buffer.
    const data = new Float32Array((end - begin) / 4);
    Buffer.from(data.buffer).set(file.subarray(base + begin, base + end));
    tensors.set(name, { shape, data });
  }
  return { tensors, metadata };
}

function checkShape(name: string, t: Tensor): void {
  const size = t.shape.reduce((a, b) => a * b, 1);
  if (size !== t.data.length) {
    throw new Error(`tensor ${name}: shape [${t.shape.join(', ')}] holds ${size} values, data has ${t.data.length}`);
  }
}
