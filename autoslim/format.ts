const SUFFIXES = ['', 'k', 'M', 'G'] as const;

/**
 * A count (MACs, params, a budget) as people read it: three significant digits and a k, M or G
 * suffix (7.52M, 312k, 1.20G); below a thousand, the number itself. Exponent notation
 * (7.522e+6) never appears.
 */
export function humanCount(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  let power = 0;
  while (power < SUFFIXES.length - 1 && Math.abs(value) >= 1000 ** (power + 1)) power++;
  if (power === 0) return Number.isInteger(value) ? String(value) : significant(value);
  let shown = significant(value / 1000 ** power);
  // 999,999 would read "1000k": it belongs to the next suffix up.
  if (Math.abs(Number(shown)) >= 1000 && power < SUFFIXES.length - 1) shown = significant(value / 1000 ** ++power);
  return `${shown}${SUFFIXES[power]}`;
}

function significant(value: number): string {
  const size = Math.abs(value);
  return value.toFixed(size >= 100 ? 0 : size >= 10 ? 1 : 2);
}
