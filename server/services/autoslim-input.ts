import { AutoSlimError } from '../../autoslim';
import { badInput } from '../errors';

/** Runs an autoslim/ check and turns its rejection into a GraphQL error under the input's path. */
export function checked<T>(inputPath: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof AutoSlimError) {
      // Already under the input's path, or to be put there ('inputSize' is not under 'input').
      const under = !inputPath || error.field === inputPath || error.field.startsWith(`${inputPath}.`) || error.field.startsWith(`${inputPath}[`);
      const field = under ? error.field : `${inputPath}.${error.field}`;
      throw badInput(field, error.message.slice(error.field.length + 2));
    }
    throw error;
  }
}
