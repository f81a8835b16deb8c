import { useEffect, useRef, useState } from 'preact/hooks';
import { gql, subscribe, type Variables } from './api/client';

export type Loadable<T> =
  | { readonly status: 'loading' }
  | { readonly status: 'error'; readonly message: string }
  | { readonly status: 'ready'; readonly data: T };

export interface Loaded<T> {
  readonly state: Loadable<T>;
  /** Applies a live update to the loaded data (ignored while loading or failed). */
  readonly update: (change: (data: T) => T) => void;
  readonly reload: () => void;
}

/**
 * Runs `load` whenever `key` changes; a stale answer never overwrites a newer one. A null key
 * holds the request back (the state stays loading) until the caller is ready for it.
 */
export function useLoad<T>(load: () => Promise<T>, key: string | null): Loaded<T> {
  const [state, setState] = useState<Loadable<T>>({ status: 'loading' });
  const [generation, setGeneration] = useState(0);
  const loadedKey = useRef<string | null>(null);
  useEffect(() => {
    let current = true;
    // A reload of the same request keeps showing the old data until the new one arrives.
    if (loadedKey.current !== key) setState({ status: 'loading' });
    loadedKey.current = key;
    if (key === null) return;
    load().then(
      (data) => current && setState({ status: 'ready', data }),
      (error: unknown) => current && setState({ status: 'error', message: error instanceof Error ? error.message : String(error) }),
    );
    return () => {
      current = false;
    };
    // `load` is a fresh closure every render; `key` is what identifies the request.
  }, [key, generation]);
  return {
    state,
    update: (change) => setState((s) => (s.status === 'ready' ? { status: 'ready', data: change(s.data) } : s)),
    reload: () => setGeneration((g) => g + 1),
  };
}

export function useQuery<T>(query: string, variables: Variables = {}): Loaded<T> {
  return useLoad(() => gql<T>(query, variables), query + JSON.stringify(variables));
}

/** A live subscription for as long as the component shows; returns the connection's last error. */
export function useSubscription<T>(query: string, variables: Variables, onEvent: (data: T) => void): string | null {
  const [error, setError] = useState<string | null>(null);
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const key = JSON.stringify(variables);
  useEffect(() => {
    setError(null);
    return subscribe<T>(query, variables, {
      next: (data) => {
        setError(null);
        handler.current(data);
      },
      error: setError,
    });
  }, [query, key]);
  return error;
}
