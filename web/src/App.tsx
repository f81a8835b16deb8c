import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { loadSession, onSessionEnded, SESSION_ENDED, type Session } from './api/client';
import type { ProjectSummary } from './api/types';
import { Account } from './components/Account';
import { DemoStart } from './components/DemoStart';
import { Await, Empty, ErrorBox, Loading } from './components/Status';
import { useQuery } from './hooks';
import { navigate, routeHref, useRoute, type View } from './route';
import { ApiTokens } from './views/ApiTokens';
import { Compare } from './views/Compare';
import { Jobs } from './views/Jobs';
import { Leaderboard } from './views/Leaderboard';
import { Login } from './views/Login';
import { Members } from './views/Members';
import { Pareto } from './views/Pareto';
import { RankingStudy } from './views/RankingStudy';
import { Supernet } from './views/Supernet';
import { Trajectory } from './views/Trajectory';

const PROJECTS_QUERY = `query Projects { projects { id name searchSpaces { id name architecture } } }`;

const NAV: readonly [View, string][] = [
  ['leaderboard', 'Leaderboard'],
  ['pareto', 'Pareto'],
  ['trajectory', 'Trajectory'],
  ['compare', 'Compare'],
  ['supernet', 'Supernet'],
  ['jobs', 'Jobs'],
  ['members', 'Members'],
];

/** Views reached from another view rather than the menu: the menu marks the view they belong to. */
const MENU_ENTRY: Partial<Record<View, View>> = { study: 'supernet' };

/** Views that show one search space at a time. */
const SPACE_VIEWS: readonly View[] = ['leaderboard', 'pareto', 'compare'];

type Gate =
  | { readonly status: 'loading' }
  | { readonly status: 'error'; readonly message: string }
  | { readonly status: 'signedOut'; readonly notice: string | null }
  | { readonly status: 'signedIn'; readonly session: Session };

/** The login page until the server knows who this is; a local server signs everyone in. */
export function App() {
  const [gate, setGate] = useState<Gate>({ status: 'loading' });
  useEffect(() => {
    onSessionEnded(() => setGate({ status: 'signedOut', notice: SESSION_ENDED }));
    loadSession().then(
      (session) => setGate(session.user ? { status: 'signedIn', session } : { status: 'signedOut', notice: null }),
      (error: unknown) => setGate({ status: 'error', message: error instanceof Error ? error.message : String(error) }),
    );
  }, []);
  if (gate.status === 'loading') return <Loading what="session" />;
  if (gate.status === 'error') return <ErrorBox message={`Could not load the session: ${gate.message}`} />;
  if (gate.status === 'signedOut') {
    return <Login notice={gate.notice} onSignedIn={(user) => setGate({ status: 'signedIn', session: { authRequired: true, user } })} />;
  }
  return <Workspace session={gate.session} account={<Account session={gate.session} onSignedOut={() => setGate({ status: 'signedOut', notice: null })} />} />;
}

/** What the views need to know of the session: local mode has no user to own tokens or memberships. */
interface Identity {
  readonly local: boolean;
  /** The signed-in user's name; null in local mode. */
  readonly me: string | null;
}

function identityOf(session: Session): Identity {
  const local = !session.authRequired || !session.user;
  return { local, me: local ? null : (session.user?.name ?? null) };
}

function Workspace({ session, account }: { session: Session; account: JSX.Element }) {
  const projects = useQuery<{ projects: ProjectSummary[] }>(PROJECTS_QUERY);
  // Projects and search spaces are created elsewhere (CLI, notebooks): every navigation rereads them.
  useEffect(() => {
    window.addEventListener('hashchange', projects.reload);
    return () => window.removeEventListener('hashchange', projects.reload);
  }, []);
  return <Await state={projects.state} what="projects" ready={({ projects: list }) => <Shell projects={list} identity={identityOf(session)} account={account} />} />;
}

function Shell({ projects, identity, account }: { projects: ProjectSummary[]; identity: Identity; account: JSX.Element }) {
  const route = useRoute();
  if (projects.length === 0) {
    // Tokens belong to the user, not to a project: someone with no project yet still needs one.
    return (
      <main>
        <h1>slimlab</h1>
        {account}
        {route.view === 'tokens' ? (
          <ApiTokens local={identity.local} />
        ) : (
          <Empty>
            <p>No project yet.</p>
            <DemoStart />
            <p>
              Or run your own pipeline with <code>slimlab run pipeline.yaml</code>, or call the <code>createProject</code> mutation at <code>/graphql</code>.
            </p>
          </Empty>
        )}
      </main>
    );
  }
  const project = projects.find((p) => p.id === route.params.project) ?? projects[0]!;
  const space = project.searchSpaces.find((s) => s.id === route.params.space) ?? project.searchSpaces[0];
  const scope = { project: project.id, space: space?.id };
  return (
    <>
      <header class="top">
        <h1>slimlab</h1>
        <div class="selectors">
        <label>
          Project
          <select value={project.id} onChange={(e) => navigate(route.view, { project: e.currentTarget.value })}>
            {projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        {space && SPACE_VIEWS.includes(route.view) && (
          <label>
            Search space
            <select value={space.id} onChange={(e) => navigate(route.view, { project: project.id, space: e.currentTarget.value })}>
              {project.searchSpaces.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name} ({s.architecture})
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      <nav class="views">
        {NAV.map(([view, title]) => (
          <a key={view} href={routeHref(view, scope)} class={view === (MENU_ENTRY[route.view] ?? route.view) ? 'active' : ''}>
            {title}
          </a>
        ))}
      </nav>
      {account}
      </header>
      <main>
        <CurrentView view={route.view} params={{ ...route.params, ...scope }} projectId={project.id} spaceId={space?.id} identity={identity} />
      </main>
    </>
  );
}

interface CurrentViewProps {
  view: View;
  params: Record<string, string | undefined>;
  projectId: string;
  spaceId?: string;
  identity: Identity;
}

function CurrentView({ view, params, projectId, spaceId, identity }: CurrentViewProps) {
  const defined = Object.fromEntries(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined));
  if (view === 'tokens') return <ApiTokens local={identity.local} />;
  if (view === 'members') return <Members key={projectId} projectId={projectId} me={identity.me} />;
  if (view === 'jobs') return <Jobs projectId={projectId} />;
  if (view === 'supernet') return <Supernet projectId={projectId} params={defined} />;
  if (view === 'study') return <RankingStudy projectId={projectId} params={defined} />;
  if (view === 'trajectory') return <Trajectory projectId={projectId} params={defined} />;
  if (!spaceId) {
    return (
      <Empty>
        <p>This project has no search space yet. Create one with the createSearchSpace mutation.</p>
      </Empty>
    );
  }
  if (view === 'pareto') return <Pareto key={spaceId} projectId={projectId} spaceId={spaceId} params={defined} />;
  if (view === 'compare') return <Compare key={spaceId} spaceId={spaceId} params={defined} />;
  return <Leaderboard key={spaceId} projectId={projectId} spaceId={spaceId} params={defined} />;
}
