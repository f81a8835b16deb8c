import { badInput } from './errors';

/**
 * Checks of user input. Each returns the value it checked, narrowed, or throws a GraphQL error
 * naming the field and the rule, so a resolver validates in one pass before it writes anything.
 */

export const MAX_NAME_LENGTH = 200;
export const MAX_LIST_LENGTH = 1000;
export const MAX_TEXT_LENGTH = 10_000;

// C0, DEL and C1 controls: PostgreSQL cannot store NUL at all, and the others corrupt terminals and logs.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// Free text may span lines and be indented.
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

export function name(field: string, value: string): string {
  const trimmed = value.trim();
  if (trimmed.length === 0) throw badInput(field, 'must not be empty');
  if (trimmed.length > MAX_NAME_LENGTH) throw badInput(field, `must be at most ${MAX_NAME_LENGTH} characters`);
  return printable(field, trimmed);
}

/** A one-line string as given (a metric key, say): no control characters. */
export function printable(field: string, value: string): string {
  const bad = CONTROL.exec(value);
  if (bad) throw badInput(field, `must not contain control characters (found ${codePoint(bad[0])})`);
  return value;
}

/** Free text such as a description: trimmed, null when empty, tabs and newlines allowed. */
export function text(field: string, value: string | null | undefined, maxLength = MAX_TEXT_LENGTH): string | null {
  const trimmed = value?.trim() ?? '';
  if (trimmed.length === 0) return null;
  if (trimmed.length > maxLength) throw badInput(field, `must be at most ${maxLength} characters (got ${trimmed.length})`);
  const bad = CONTROL_IN_TEXT.exec(trimmed);
  if (bad) throw badInput(field, `must not contain control characters other than tab and newline (found ${codePoint(bad[0])})`);
  return trimmed;
}

function codePoint(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

export function integer(field: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value)) throw badInput(field, `must be an integer (got ${value})`);
  if (value < min || value > max) throw badInput(field, `must be between ${min} and ${max} (got ${value})`);
  return value;
}

export function finite(field: string, value: number, min: number, max: number, exclusiveMin = false): number {
  if (!Number.isFinite(value)) throw badInput(field, `must be a finite number (got ${value})`);
  if (exclusiveMin ? value <= min : value < min) {
    throw badInput(field, `must be ${exclusiveMin ? 'greater than' : 'at least'} ${min} (got ${value})`);
  }
  if (value > max) throw badInput(field, `must be at most ${max} (got ${value})`);
  return value;
}

export function list<T>(field: string, values: readonly T[], minLength: number, maxLength = MAX_LIST_LENGTH): readonly T[] {
  if (values.length < minLength) throw badInput(field, `must have at least ${minLength} entr${minLength === 1 ? 'y' : 'ies'}`);
  if (values.length > maxLength) throw badInput(field, `must have at most ${maxLength} entries (got ${values.length})`);
  return values;
}

export function uuid(field: string, value: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) {
    throw badInput(field, `must be an id (a UUID), got "${value}"`);
  }
  return value.toLowerCase();
}
