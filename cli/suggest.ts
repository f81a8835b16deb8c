/** Edits (insertions, deletions, substitutions, swaps of neighbours) that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The known word a typo most likely meant: the nearest by edit distance, if it is near enough
 * (a third of the word's length, at least one edit) or the typo is a prefix of it.
 */
export function closest(typo: string, known: readonly string[]): string | undefined {
  const allowed = Math.max(1, Math.floor(typo.length / 3));
  const ranked = known
    .map((word) => ({ word, distance: word.startsWith(typo) && typo.length >= 2 ? 0.5 : editDistance(typo, word) }))
    .filter(({ distance }) => distance <= allowed)
    .sort((a, b) => a.distance - b.distance);
  return ranked[0]?.word;
}
