/**
 * The one error type of autoslim/: every rejection of user input names the offending field
 * (e.g. `channels[7]`, `inputSize`) and the rule it broke, so the server can map it to a
 * GraphQL error without parsing messages.
 */
export class AutoSlimError extends Error {
  constructor(
    readonly field: string,
    readonly rule: string,
    detail: string,
  ) {
    super(`${field}: ${rule}: ${detail}`);
    this.name = 'AutoSlimError';
  }
}
