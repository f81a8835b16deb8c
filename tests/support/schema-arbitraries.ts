import fc from 'fast-check';
import {
  getNamedType,
  GraphQLEnumType,
  GraphQLInputObjectType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLScalarType,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';

/**
 * fast-check arbitraries for the arguments of a GraphQL field, read from the schema's argument
 * types: mostly values of the right type (so requests reach the services' own checks), with
 * out-of-range numbers, hostile strings and ids of other entities among them; in rough calls
 * also values of the wrong type, nulls, and missing or unknown fields (for graphql's coercion).
 */

/** A field left out of its input object, or an argument left out of the variables. */
const OMIT: unique symbol = Symbol('omit');

/** A number as JSON text, for values JSON.stringify cannot write (1e999 would go as null). */
class RawNumber {
  constructor(readonly text: string) {}
  toJSON(): string {
    return `${RAW_MARK}${this.text}${RAW_MARK}`;
  }
}
const RAW_MARK = '\u{E000}raw\u{E000}';

/** The request body, with every RawNumber spliced in as the number it spells. */
export function requestBody(query: string, variables: Record<string, unknown>): string {
  const quoted = new RegExp(`"${RAW_MARK}([^"]*)${RAW_MARK}"`, 'g');
  return JSON.stringify({ query, variables }).replace(quoted, '$1');
}

export interface Pools {
  /** Ids worth trying: of the caller's entities, of entities it cannot see, of other users' things. */
  readonly ids: readonly string[];
  /** Strings worth trying besides generated ones: known names, architectures, paths, users. */
  readonly strings: readonly string[];
  /**
   * Values most worth trying in a field of this name (`datasetId`: the datasets of the caller's
   * project and of one it cannot see; `architecture`: the architectures; `channels`: channel lists
   * of the search spaces), so enough requests get past the first checks to the writes behind them.
   */
  readonly hints: (field: string) => readonly unknown[];
}

/**
 * How a call is made: `calm` mostly keeps the schema's defaults and the hinted values, so it gets
 * deep (past the lookups, to the writes); `wild` generates every value; `rough` also sends values of
 * the wrong type, nulls where none is allowed, and missing or unknown fields.
 */
type Mood = 'calm' | 'wild' | 'rough';

/** Where a value goes, and in what mood. */
interface Place {
  readonly pools: Pools;
  /** The input field or argument the value is for (a list's elements share its name). */
  readonly name: string;
  readonly mood: Mood;
  readonly depth: number;
}

/** Characters that break naive handling: controls, bidi and zero-width marks, lone surrogates, quotes. */
const AWKWARD = [
  '\u0000', '\u0007', '\u0008', '\t', '\n', '\r', '\u001b', '\u007f', '\u0085', '\u009f', '\u00a0', '\u200b', '\u200d', '\u202e',
  '\u2028', '\ufeff', '\ufffd', '\uffff', '\ud800', '\udbff', '\udc00', '\udfff', '😀', 'é', 'e\u0301', 'ß', 'İ', '"', "'", '\\', '%',
  '_', '*', '/', '..', ' ', ';', '--', '$1', '?', '<', '&', '__proto__', 'constructor',
];

function weird(): fc.Arbitrary<string> {
  const piece = fc.oneof(fc.constantFrom(...AWKWARD), fc.string({ unit: 'binary', maxLength: 2 }), fc.string({ maxLength: 4 }));
  return fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(''));
}

/** Up to ~100k UTF-16 units: under the request limit on its own, over every field's own limit. */
function huge(): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom('x', 'ab ', 'é', '😀', '\u0000', '\ud800', ' '), fc.integer({ min: 201, max: 100_000 }))
    .map(([unit, length]) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length));
}

/** The hints for the place that are of the kind `is` tells, as a weighted choice (none when there are none). */
function hinted<T>(place: Place, weight: number, is: (hint: unknown) => hint is T): { weight: number; arbitrary: fc.Arbitrary<T> }[] {
  const hints = place.pools.hints(place.name).filter(is);
  return hints.length > 0 ? [{ weight, arbitrary: fc.constantFrom(...hints) }] : [];
}

const isString = (hint: unknown): hint is string => typeof hint === 'string';
const isList = (hint: unknown): hint is unknown[] => Array.isArray(hint);

/** Strings a careless parser takes for numbers or nothing. */
const NUMBER_LIKE = ['NaN', '-NaN', 'Infinity', '-Infinity', '1e999', '-0', '0x10', '1_000', ' 1', 'null', 'undefined', 'true'];

function strings(place: Place): fc.Arbitrary<string> {
  return fc.oneof(
    ...hinted(place, place.mood === 'calm' ? 30 : 8, isString),
    { weight: 5, arbitrary: fc.constantFrom(...place.pools.strings) },
    { weight: 3, arbitrary: fc.string({ maxLength: 24 }) },
    { weight: 3, arbitrary: weird() },
    { weight: 1, arbitrary: fc.constantFrom(...NUMBER_LIKE) },
    { weight: 1, arbitrary: huge() },
  );
}

const SOME_ID = '6f1c2a4e-3b5d-4c7e-9f80-1a2b3c4d5e6f';
const MALFORMED_IDS = [
  '', ' ', 'null', 'undefined', 'not-an-id', `${SOME_ID} `, ` ${SOME_ID}`, SOME_ID.slice(0, -1), `${SOME_ID}0`, `${SOME_ID}\u0000`,
  SOME_ID.replace(/-/g, ''), `{${SOME_ID}}`, '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', "'; DROP TABLE job; --",
];

function ids(place: Place): fc.Arbitrary<unknown> {
  const { pools } = place;
  return fc.oneof(
    ...hinted(place, place.mood === 'calm' ? 40 : 10, isString),
    { weight: 4, arbitrary: fc.constantFrom(...pools.ids) },
    { weight: 2, arbitrary: fc.constantFrom(...pools.ids).map((id) => id.toUpperCase()) },
    { weight: 3, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.constantFrom(...MALFORMED_IDS) },
    // ID also takes integers, which graphql turns into strings.
    { weight: 1, arbitrary: fc.integer() },
    { weight: 1, arbitrary: weird() },
  );
}

const INT_EDGES = [0, 1, 2, 3, 4, 7, 8, 10, 16, 28, 64, 100, 1000, 1001, 2048, 3650, 3651, 4096, 4097, 65_536, 65_537, 1_000_000, 2 ** 31 - 1, -1, -(2 ** 31)];
const FLOAT_EDGES = [
  0, -0, 0.1, 0.15, 0.1499, 0.35, 0.5, 0.5000001, 1, 1.5, 1.5000001, 2, 10, 1e-320, 5e-324, -1, -1e-9, 1e6, 3e6, 1e12, Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2, 1e308, -1e308, Number.MAX_VALUE,
];

function ints(): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 6, arbitrary: fc.integer({ min: -2, max: 16 }) }, { weight: 3, arbitrary: fc.constantFrom(...INT_EDGES) }, { weight: 2, arbitrary: fc.integer() });
}

function floats(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.double({ min: 0, max: 2, noNaN: true }) },
    { weight: 3, arbitrary: fc.constantFrom(...FLOAT_EDGES) },
    { weight: 2, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  );
}

/** What no Int, Float or other scalar accepts, though JSON carries it: NaN-like strings, 1e999, values past Int's range. */
function wrongNumbers(): fc.Arbitrary<unknown> {
  return fc.constantFrom(
    'NaN', 'Infinity', '-Infinity', '1e999', '1', '0x10', '', 1.5, 2 ** 31, -(2 ** 31) - 1, 0xffffffff, 1e300,
    new RawNumber('1e999'), new RawNumber('-1e999'), new RawNumber('9007199254740993'), new RawNumber('1e-999'), new RawNumber('-0'),
  );
}

/** A value of any other type, as a careless or hostile client would send. */
function anyValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 6 }),
    wrongNumbers(),
    fc.constant([]),
    fc.constant({}),
    fc.array(fc.integer(), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }),
  );
}

function named(type: GraphQLInputType, place: Place): fc.Arbitrary<unknown> {
  if (type instanceof GraphQLNonNull) return named(type.ofType, place);
  if (type instanceof GraphQLList) {
    const element = value(type.ofType, { ...place, depth: place.depth + 1 });
    return fc.oneof(
      ...hinted(place, place.mood === 'calm' ? 30 : 6, isList),
      { weight: 12, arbitrary: fc.array(element, { maxLength: 6 }) },
      // A single value is coerced to a list of one.
      { weight: 1, arbitrary: element },
      // Past every list's limit (1000 entries, or fewer), within about 200 KB of JSON.
      { weight: 1, arbitrary: fc.tuple(element, fc.integer({ min: 17, max: 1500 })).map(([item, length]) => Array.from({ length: fitting(item, length) }, () => item)) },
    );
  }
  if (type instanceof GraphQLInputObjectType) return inputObject(type, place);
  if (type instanceof GraphQLEnumType) return fc.constantFrom(...type.getValues().map((v) => v.value as string));
  if (type instanceof GraphQLScalarType) {
    switch (type.name) {
      case 'ID':
        return ids(place);
      case 'String':
        return strings(place);
      case 'Int':
        return ints();
      case 'Float':
        return floats();
      case 'Boolean':
        return fc.boolean();
      default:
        return fc.jsonValue({ maxDepth: 2 });
    }
  }
  throw new Error(`no arbitrary for ${String(type)}`);
}

/** How many copies of `item` fit in about 200 KB of JSON, up to `length`: a list of huge strings stays sendable. */
function fitting(item: unknown, length: number): number {
  const size = JSON.stringify(item ?? null)?.length ?? 4;
  return Math.max(1, Math.min(length, Math.floor(200_000 / size)));
}

/** A value for a position of `type`: of its type, or in a rough call now and then of another, or null. */
function value(type: GraphQLInputType, place: Place): fc.Arbitrary<unknown> {
  if (place.mood !== 'rough') return named(type, place);
  const wrong = getNamedType(type) instanceof GraphQLEnumType ? fc.oneof(anyValue(), fc.constantFrom('NOPE', 'lowercase')) : anyValue();
  return fc.oneof({ weight: 12, arbitrary: named(type, place) }, { weight: 1, arbitrary: wrong }, { weight: 1, arbitrary: fc.constant(null) });
}

/**
 * A field or argument, which may be left out: one with a default often is, or is given its default
 * (the schema's own valid value); a nullable one is often left out; a required one only in a rough call.
 */
function omittable(type: GraphQLInputType, defaultValue: unknown, place: Place): fc.Arbitrary<unknown> {
  const calm = place.mood === 'calm';
  const choices: fc.WeightedArbitrary<unknown>[] = [{ weight: calm ? 1 : 3, arbitrary: value(type, place) }];
  const given = JSON.parse(JSON.stringify(defaultValue ?? null)) as unknown;
  if (defaultValue !== undefined) choices.push({ weight: calm ? 4 : 2, arbitrary: fc.constant(OMIT) }, { weight: calm ? 2 : 1, arbitrary: fc.constant(given) });
  else if (!(type instanceof GraphQLNonNull)) choices.push({ weight: calm ? 4 : 2, arbitrary: fc.constant(OMIT) });
  else if (place.mood === 'rough') choices.push({ weight: 1, arbitrary: fc.constant(OMIT) });
  return fc.oneof(...choices);
}

function inputObject(type: GraphQLInputObjectType, place: Place): fc.Arbitrary<Record<string, unknown>> {
  if (place.depth > 6) return fc.constant({});
  const fields = Object.values(type.getFields());
  const record = fc.tuple(...fields.map((field) => omittable(field.type, field.defaultValue, { ...place, name: field.name, depth: place.depth + 1 })));
  const unknownField = place.mood === 'rough' ? fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('bogus', '__proto__', 'constructor') }) : fc.constant(null);
  return fc.tuple(record, unknownField).map(([values, extra]) => {
    const object: Record<string, unknown> = {};
    fields.forEach((field, i) => {
      if (values[i] !== OMIT) object[field.name] = values[i];
    });
    if (extra) Object.defineProperty(object, extra, { value: 1, enumerable: true, writable: true, configurable: true });
    return object;
  });
}

/** One call of a root field: its operation (every argument a variable of the argument's own type) and the variables. */
export interface Call {
  readonly field: string;
  readonly query: string;
  readonly variables: Record<string, unknown>;
}

/** The operation text that calls `field` with each argument from a variable of the argument's type. */
export function operationOf(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>): string {
  const declared = field.args.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(', ');
  const passed = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  const selection = getNamedType(field.type) instanceof GraphQLObjectType ? ' { __typename }' : '';
  return `${kind}${declared ? `(${declared})` : ''} { ${field.name}${passed ? `(${passed})` : ''}${selection} }`;
}

/** Calls of `field`: two in five calm, two wild, one rough. */
export function callOf(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>, pools: Pools): fc.Arbitrary<Call> {
  const query = operationOf(kind, field);
  const moods = fc.oneof(
    { weight: 2, arbitrary: fc.constant<Mood>('calm') },
    { weight: 2, arbitrary: fc.constant<Mood>('wild') },
    { weight: 1, arbitrary: fc.constant<Mood>('rough') },
  );
  return moods.chain((mood) =>
    fc.tuple(...field.args.map((arg) => omittable(arg.type, arg.defaultValue, { pools, name: arg.name, mood, depth: 0 }))).map((values) => {
      const variables: Record<string, unknown> = {};
      field.args.forEach((arg, i) => {
        if (values[i] !== OMIT) variables[arg.name] = values[i];
      });
      return { field: field.name, query, variables };
    }),
  );
}
