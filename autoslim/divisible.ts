/**
 * Rounds a width to a multiple of `divisor` the way the reference width multipliers do: to the
 * nearest multiple (halves up), never below `divisor`, and one step up when rounding lost more
 * than 10% of the width.
 */
export function makeDivisible(value: number, divisor: number): number {
  const rounded = Math.max(divisor, Math.floor(Math.floor(value + divisor / 2) / divisor) * divisor);
  return rounded < 0.9 * value ? rounded + divisor : rounded;
}
