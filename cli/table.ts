/** A plain-text table: columns padded to their widest cell, numbers right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], numeric: readonly boolean[] = []): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}

/** Accuracies are fractions in [0, 1]. */
export function percent(fraction: number | null): string {
  return fraction == null ? '-' : `${(fraction * 100).toFixed(2)}%`;
}

/** The first 8 characters of a UUID: what a table shows, and what commands accept as the id. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}
