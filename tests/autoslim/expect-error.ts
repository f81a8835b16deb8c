import { AutoSlimError } from '../../autoslim';

/** Asserts that `run` throws an AutoSlimError for `field` and `rule`, both named in its message. */
export function expectAutoSlimError(run: () => unknown, field: string, rule: string): void {
  let caught: unknown;
  try {
    run();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(AutoSlimError);
  const error = caught as AutoSlimError;
  expect({ field: error.field, rule: error.rule }).toEqual({ field, rule });
  expect(error.message).toContain(field);
  expect(error.message).toContain(rule);
}
