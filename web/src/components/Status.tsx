import type { ComponentChildren } from 'preact';
import type { Loadable } from '../hooks';

export function Loading({ what }: { what: string }) {
  return <p class="state loading">Loading {what}…</p>;
}

export function ErrorBox({ message }: { message: string }) {
  return (
    <p class="state error" role="alert">
      {message}
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="state empty">{children}</div>;
}

/** Renders the loading and error states of a Loadable, and `ready` once its data is there. */
export function Await<T>({ state, what, ready }: { state: Loadable<T>; what: string; ready: (data: T) => preact.JSX.Element }) {
  if (state.status === 'loading') return <Loading what={what} />;
  if (state.status === 'error') return <ErrorBox message={`Could not load ${what}: ${state.message}`} />;
  return ready(state.data);
}

export function LiveBadge({ error }: { error: string | null }) {
  return error ? (
    <span class="live offline" title={error}>
      live updates lost: {error}
    </span>
  ) : (
    <span class="live">● live</span>
  );
}
