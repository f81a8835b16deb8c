/**
 * Validators for data read from a file: each checks one value and names its field in the error,
 * so a typed result comes out of the boundary or a message says exactly what to fix.
 */

export class ShapeError extends Error {}

export type Check<T> = (value: unknown, field: string) => T;

function fail(field: string, rule: string, value: unknown): never {
  throw new ShapeError(`${field || 'the document'} ${rule} (got ${JSON.stringify(value) ?? String(value)})`);
}

export const text: Check<string> = (value, field) =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : fail(field, 'must be a non-empty string', value);

export function integer(min: number, max = Number.MAX_SAFE_INTEGER): Check<number> {
  return (value, field) =>
    typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
      ? value
      : fail(field, `must be an integer from ${min} to ${max}`, value);
}

export function number(min: number, max = Number.MAX_VALUE): Check<number> {
  return (value, field) =>
    typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max
      ? value
      : fail(field, `must be a number from ${min} to ${max}`, value);
}

export const boolean: Check<boolean> = (value, field) => (typeof value === 'boolean' ? value : fail(field, 'must be true or false', value));

export function oneOf<T extends string>(...choices: readonly T[]): Check<T> {
  return (value, field) =>
    typeof value === 'string' && (choices as readonly string[]).includes(value) ? (value as T) : fail(field, `must be one of ${choices.join(', ')}`, value);
}

export function list<T>(item: Check<T>, min = 1, max = 1000): Check<T[]> {
  return (value, field) => {
    if (!Array.isArray(value) || value.length < min || value.length > max) fail(field, `must be a list of ${min} to ${max} entries`, value);
    return value.map((entry, i) => item(entry, `${field}[${i}]`));
  };
}

/** The field may be left out; it stays undefined so the server's default applies. */
export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (value, field) => (value === undefined || value === null ? undefined : check(value, field));
}

type Fields = Record<string, Check<unknown>>;
type Parsed<F extends Fields> = { [K in keyof F]: ReturnType<F[K]> };

/** A mapping with exactly these keys; an unknown key is an error, since it is usually a typo. */
export function object<F extends Fields>(fields: F): Check<Parsed<F>> {
  return (value, field) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(field, 'must be a mapping', value);
    const entries = value as Record<string, unknown>;
    const unknown = Object.keys(entries).filter((key) => !(key in fields));
    if (unknown.length > 0) {
      throw new ShapeError(`${member(field, unknown[0]!)} is not a known field; expected one of ${Object.keys(fields).join(', ')}`);
    }
    return Object.fromEntries(Object.entries(fields).map(([key, check]) => [key, check(entries[key], member(field, key))])) as Parsed<F>;
  };
}

function member(field: string, key: string): string {
  return field === '' ? key : `${field}.${key}`;
}

/** Drops the keys left undefined, so a GraphQL input only carries what the file set. */
export function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
