/**
 * Just enough of the WebAssembly binary format to assemble SIMD kernels at run time: functions of
 * i32 parameters with i32 and v128 locals, an imported memory, structured loops. Writing the few
 * instructions the kernels need here spares the project a C or Rust toolchain and a checked-in
 * .wasm blob; WebAssembly.Module validates the result when it is compiled.
 */

export type Code = readonly number[];

function unsigned(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function signed(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

const simd = (opcode: number): number[] => [0xfd, ...unsigned(opcode)];
/** A memory access's alignment hint (log2 bytes) and constant offset. */
const memarg = (alignLog2: number, offset: number): number[] => [alignLog2, ...unsigned(offset)];

const I32 = 0x7f;
const V128 = 0x7b;
const VOID_BLOCK = 0x40;

export const op = {
  get: (local: number): Code => [0x20, ...unsigned(local)],
  set: (local: number): Code => [0x21, ...unsigned(local)],
  i32: (value: number): Code => [0x41, ...signed(value)],
  add: [0x6a] as Code,
  sub: [0x6b] as Code,
  mul: [0x6c] as Code,
  divU: [0x6e] as Code,
  ne: [0x47] as Code,
  ltS: [0x48] as Code,
  ltU: [0x49] as Code,
  gtS: [0x4a] as Code,
  /** Of the two values below the condition, the first where it is non-zero, else the second. */
  select: [0x1b] as Code,
  loadI32: (offset: number): Code => [0x28, ...memarg(2, offset)],
  v128Load: (offset: number): Code => [...simd(0x00), ...memarg(2, offset)],
  v128Store: (offset: number): Code => [...simd(0x0b), ...memarg(2, offset)],
  /** One f32 at an address, in all four lanes. */
  f32Splat: (offset: number): Code => [...simd(0x09), ...memarg(2, offset)],
  v128Zero: [...simd(0x0c), ...new Array<number>(16).fill(0)] as Code,
  /** The upper two f32 lanes of the top operand moved into the lower two (both operands the same). */
  f32x4High: [...simd(0x0d), 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15] as Code,
  f32x4Lt: simd(0x43) as Code,
  f32x4Gt: simd(0x44) as Code,
  v128And: simd(0x4e) as Code,
  f64x2PromoteLow: simd(0x5f) as Code,
  f32x4Add: simd(0xe4) as Code,
  f32x4Sub: simd(0xe5) as Code,
  f32x4Mul: simd(0xe6) as Code,
  f32x4Min: simd(0xe8) as Code,
  f32x4Max: simd(0xe9) as Code,
  f64x2Add: simd(0xf0) as Code,
};

export const increment = (local: number, by: Code): Code => [...op.get(local), ...by, ...op.add, ...op.set(local)];

/** Decrements `local` and leaves whether it is still non-zero: a do-while condition counting down. */
export const decrementWhileNonZero = (local: number): Code => [...op.get(local), ...op.i32(1), ...op.sub, ...op.set(local), ...op.get(local), ...op.i32(0), ...op.ne];

/** The v128 at address base + offset (two i32 locals). */
export const loadAt = (base: number, offset: number): Code => [...op.get(base), ...op.get(offset), ...op.add, ...op.v128Load(0)];

/** Adds the four float32 lanes of v128 local `vector` to the four float64 at the address in local `at`. */
export const accumulateF64 = (at: number, vector: number): Code => [
  ...op.get(at), ...op.get(at), ...op.v128Load(0), ...op.get(vector), ...op.f64x2PromoteLow, ...op.f64x2Add, ...op.v128Store(0),
  ...op.get(at), ...op.get(at), ...op.v128Load(16), ...op.get(vector), ...op.get(vector), ...op.f32x4High, ...op.f64x2PromoteLow, ...op.f64x2Add, ...op.v128Store(16),
];

/** `body` repeated while the condition it leaves on the stack last is non-zero (a do-while). */
export function doWhile(body: Code, condition: Code): Code {
  return [0x03, VOID_BLOCK, ...body, ...condition, 0x0d, 0, 0x0b];
}

export function ifThen(condition: Code, body: Code): Code {
  return [...condition, 0x04, VOID_BLOCK, ...body, 0x0b];
}

const vector = (items: readonly Code[]): number[] => [...unsigned(items.length), ...items.flat()];
const name = (text: string): number[] => vector([...text].map((ch) => [ch.charCodeAt(0)]));
const section = (id: number, content: readonly number[]): number[] => [id, ...unsigned(content.length), ...content];

export interface KernelFunction {
  readonly name: string;
  readonly params: number;
  readonly i32Locals: number;
  readonly v128Locals: number;
  readonly body: Code;
}

/**
 * A module importing `env.memory` and exporting `functions`, each of i32 parameters whose locals
 * are numbered after them, i32 ones first.
 */
export function assembleKernels(functions: readonly KernelFunction[]): Uint8Array {
  const types = functions.map((f) => [0x60, ...vector(new Array<Code>(f.params).fill([I32])), 0]);
  const memoryImport = [...name('env'), ...name('memory'), 0x02, 0x00, 0x01];
  const bodies = functions.map((f) => {
    const locals = vector([
      [...unsigned(f.i32Locals), I32],
      [...unsigned(f.v128Locals), V128],
    ]);
    const code = [...locals, ...f.body, 0x0b];
    return [...unsigned(code.length), ...code];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(types)),
    ...section(2, vector([memoryImport])),
    ...section(3, vector(functions.map((_, i) => unsigned(i)))),
    ...section(7, vector(functions.map((f, i) => [...name(f.name), 0x00, ...unsigned(i)]))),
    ...section(10, vector(bodies)),
  ]);
}

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** The part of the WebAssembly API used here; TypeScript declares it only in the DOM lib, which the project does not load. */
interface WasmApi {
  readonly Memory: new (descriptor: { initial: number }) => WasmMemory;
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}

export const wasmApi = (): WasmApi => (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export type Kernels = Record<string, (...args: number[]) => void>;

/** Compiles `functions` against `memory` and returns them by name. */
export function instantiateKernels(functions: readonly KernelFunction[], memory: WasmMemory): Kernels {
  const wasm = wasmApi();
  return new wasm.Instance(new wasm.Module(assembleKernels(functions)), { env: { memory } }).exports as Kernels;
}
