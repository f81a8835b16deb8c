/**
 * An error as the server log may keep it. A failed statement's message starts with the statement
 * and its values (on the worker routes: lease tokens), so only the database's reason is kept.
 */
export function loggableError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { message } = error;
  const statement = /^\s*(select|insert|update|delete|with)\b/i.test(message) && message.includes(' - ');
  const reason = statement ? `${message.slice(message.lastIndexOf(' - ') + 3)} (statement omitted)` : message;
  const frames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  return [`${error.name}: ${reason}`, ...frames].join('\n');
}
