import { GraphQLError, type GraphQLFormattedError } from 'graphql';

/** graphql-js stops coercing variables after 50 invalid values with this error, which has no code. */
const TOO_MANY_INVALID = 'Too many errors processing variables, error limit reached. Execution aborted.';

/**
 * Variable coercion errors as a client should get them: each names its field in `extensions.field`,
 * as the services' input errors do; graphql-js's give-up after too many invalid values is the
 * client's BAD_REQUEST, not the INTERNAL_SERVER_ERROR an error without a code would read as.
 */
export function variableError(formatted: GraphQLFormattedError, original: GraphQLError): GraphQLFormattedError {
  if (formatted.message === TOO_MANY_INVALID) return { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_REQUEST' } };
  if (formatted.extensions?.code !== 'BAD_USER_INPUT' || formatted.extensions.field !== undefined) return formatted;
  const field = variableErrorField(formatted.message, original);
  return field === null ? formatted : { ...formatted, extensions: { ...formatted.extensions, field } };
}

/**
 * The input field a variable coercion error is about, in the services' spelling (`input.recipe.epochs`,
 * `input.widths[2]`, `id`), so a value of the wrong type names its field as a value the services
 * refuse does. graphql-js says which field only in the message: "Variable "$v" got invalid value …
 * at "v.path"; <reason>", "… of required type … was not provided." or "… must not be null.".
 * Null for any other error.
 */
function variableErrorField(message: string, original: unknown): string | null {
  const variable = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)" /.exec(message)?.[1];
  if (!variable) return null;
  const rest = message.slice(`Variable "$${variable}" `.length);
  if (/^of (required|non-null) type "[^"]*" (was not provided|must not be null)\.$/.test(rest)) return variable;
  if (!rest.startsWith('got invalid value ')) return null;
  // The message is "<prefix>; <reason>", and the reason is the original error's message: split there,
  // since the invalid value quoted in the prefix may itself contain anything.
  const reason = original instanceof GraphQLError && original.originalError instanceof GraphQLError ? original.originalError.message : null;
  if (reason === null || !message.endsWith(`; ${reason}`)) return variable;
  const prefix = message.slice(0, message.length - reason.length - 2);
  // The path ends the prefix; it holds names and indexes only, never a quote.
  const at = new RegExp(` at "(${variable}(?:\\.[_A-Za-z][_0-9A-Za-z]*|\\[\\d+\\])*)"$`).exec(prefix)?.[1] ?? variable;
  // A required field missing from an input object is named itself; an unknown one is not a field
  // of the input, so the object it was sent in is named (and the message says which).
  const field = /^Field "([_A-Za-z][_0-9A-Za-z]*)" of required type "[^"]*" was not provided\./.exec(reason)?.[1];
  return field ? `${at}.${field}` : at;
}
