/** Groups 0…size-1 into classes joined by the given pairs; each class sorted, classes by first member. */
export function equivalenceClasses(size: number, pairs: readonly (readonly [number, number])[]): number[][] {
  const parent = Array.from({ length: size }, (_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  for (const [a, b] of pairs) {
    const [ra, rb] = [root(a), root(b)];
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
  const classes = new Map<number, number[]>();
  for (let i = 0; i < size; i++) {
    const r = root(i);
    const members = classes.get(r) ?? [];
    members.push(i);
    classes.set(r, members);
  }
  return [...classes.values()].sort((x, y) => x[0] - y[0]);
}
