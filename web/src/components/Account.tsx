import { useState } from 'preact/hooks';
import { logout, type Session } from '../api/client';
import { routeHref, useRoute } from '../route';

/** Who is signed in, where the header has room for it; a local server has no one to sign out. */
export function Account({ session, onSignedOut }: { session: Session; onSignedOut: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [leaving, setLeaving] = useState(false);
  const route = useRoute();
  // Tokens are not a project's: the link keeps only the project, so coming back lands where the user was.
  const tokens = (
    <a href={routeHref('tokens', { project: route.params.project })} class={route.view === 'tokens' ? 'active' : ''}>
      API tokens
    </a>
  );
  if (!session.authRequired || !session.user) {
    return (
      <div class="account">
        <span class="hint" title="The server runs in single-user local mode: there is no sign-in.">
          local mode
        </span>
        {tokens}
      </div>
    );
  }

  const signOut = async () => {
    setLeaving(true);
    setError(null);
    try {
      await logout();
      onSignedOut();
    } catch (failure) {
      // Still signed in: the cookie is valid until the server has ended the session.
      setError(failure instanceof Error ? failure.message : String(failure));
      setLeaving(false);
    }
  };

  return (
    <div class="account">
      <span class="user" title={session.user.admin ? 'administrator' : undefined}>
        {session.user.name}
      </span>
      {tokens}
      <button onClick={signOut} disabled={leaving}>
        Sign out
      </button>
      {error && (
        <span class="hint error" role="alert">
          Sign-out failed: {error}
        </span>
      )}
    </div>
  );
}
