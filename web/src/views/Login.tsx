import { useState } from 'preact/hooks';
import { login } from '../api/client';
import type { User } from '../api/types';
import { ErrorBox } from '../components/Status';

/** The sign-in form a server with authentication shows first; `notice` says why it is back. */
export function Login({ notice, onSignedIn }: { notice: string | null; onSignedIn: (user: User) => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (submitting) return;
    setSubmitting(true);
    setError(null);
    try {
      onSignedIn(await login(name.trim(), password));
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
      setSubmitting(false);
    }
  };

  return (
    <main class="login">
      <form onSubmit={submit} aria-labelledby="login-title">
        <h1>slimlab</h1>
        <h2 id="login-title">Sign in</h2>
        {notice && !error && (
          <p class="state notice" role="status">
            {notice}
          </p>
        )}
        <label>
          User name
          <input name="username" autoComplete="username" autoFocus required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        {error && <ErrorBox message={error} />}
        <button type="submit" disabled={submitting}>
          {submitting ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
