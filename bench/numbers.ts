/** What the benchmarks share: their integer command-line options, and figures rounded for printing. */

/** `--name N` from the command line, a positive integer, or `fallback` when absent. */
export function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${process.argv[i + 1]}`);
  return value;
}

export function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
