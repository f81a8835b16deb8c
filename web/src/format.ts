const PREFIXES: readonly [number, string][] = [
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** 300836992 → "300.8 M": costs are read in millions, three or four significant digits. */
export function compact(value: number): string {
  const [scale, prefix] = PREFIXES.find(([s]) => Math.abs(value) >= s) ?? [1, ''];
  return `${(value / scale).toPrecision(4).replace(/\.?0+$/, '')}${prefix ? ` ${prefix}` : ''}`;
}

/** Accuracies are fractions in [0, 1]; people read percentages. */
export function percent(fraction: number | null | undefined): string {
  return fraction == null ? '—' : `${(fraction * 100).toFixed(2)}%`;
}

export function milliseconds(value: number | null): string {
  return value == null ? '—' : `${value.toFixed(2)} ms`;
}

export function shortHash(hash: string): string {
  return hash.slice(0, 10);
}

/** The first 8 characters of a UUID: what a user pastes into the CLI, which accepts unique prefixes. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

export function timeOf(iso: string | null): string {
  return iso ? new Date(iso).toLocaleTimeString() : '—';
}

/** Token and membership dates: the day matters more than the second. */
export function dateOf(iso: string | null, none = '—'): string {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : none;
}
