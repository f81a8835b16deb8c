import { loggableError } from '../../server/loggable-error';

describe('errors as the server log keeps them', () => {
  it('keeps the reason of a failed statement but not the statement and its values', () => {
    const failed = new Error(`update "job" set "heartbeat_at" = '2026-11-30' where "id" = 'j1' and "lease_token" = 'secret-lease-token' - deadlock detected`);
    failed.name = 'DeadlockException';
    const logged = loggableError(failed);
    expect(logged).toMatch(/^DeadlockException: deadlock detected \(statement omitted\)\n\s+at /);
    expect(logged).not.toContain('secret-lease-token');
  });

  it('keeps any other error whole, with its stack', () => {
    const other = new TypeError('cannot read properties of undefined');
    expect(loggableError(other)).toMatch(/^TypeError: cannot read properties of undefined\n\s+at /);
    expect(loggableError('plain')).toBe('plain');
  });
});
