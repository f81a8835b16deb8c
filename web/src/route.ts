import { useEffect, useState } from 'preact/hooks';

export const VIEWS = ['leaderboard', 'pareto', 'trajectory', 'compare', 'supernet', 'study', 'jobs', 'members', 'tokens'] as const;
export type View = (typeof VIEWS)[number];

/** Hash routes: `#/<view>?project=…&space=…&…`; the query keeps a view's selection across reloads. */
export interface Route {
  readonly view: View;
  readonly params: Readonly<Record<string, string>>;
}

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const view = (VIEWS as readonly string[]).includes(path) ? (path as View) : 'leaderboard';
  return { view, params: Object.fromEntries(new URLSearchParams(query)) };
}

export function routeHref(view: View, params: Record<string, string | null | undefined>): string {
  const query = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] != null && e[1] !== ''));
  const text = query.toString();
  return `#/${view}${text ? `?${text}` : ''}`;
}

export function navigate(view: View, params: Record<string, string | null | undefined>): void {
  window.location.hash = routeHref(view, params);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
