/** An error the user can fix; main prints its message alone, without a stack. */
export class CliError extends Error {
  constructor(
    message: string,
    /** 2 for a wrong command line, file or token, 1 for everything that went wrong later. */
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, 2);
}
