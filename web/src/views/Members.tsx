import { useState } from 'preact/hooks';
import { gql } from '../api/client';
import type { ProjectMember, ProjectRole } from '../api/types';
import { Await, Empty, ErrorBox } from '../components/Status';
import { dateOf } from '../format';
import { useQuery } from '../hooks';
import { navigate } from '../route';

const PROJECT_QUERY = `query ProjectMembers($id: ID!) { project(id: $id) { id name myRole members { user { name } role createdAt } } }`;
const SET_MEMBER = `mutation SetProjectMember($input: SetProjectMemberInput!) { setProjectMember(input: $input) { role } }`;
const REMOVE_MEMBER = `mutation RemoveProjectMember($projectId: ID!, $user: String!) { removeProjectMember(projectId: $projectId, user: $user) }`;

const ROLES: readonly ProjectRole[] = ['VIEWER', 'EDITOR', 'OWNER'];

const ROLE_HINT: Record<ProjectRole, string> = {
  VIEWER: 'reads the project',
  EDITOR: 'also registers datasets, runs, cancels and retries jobs',
  OWNER: 'also manages members',
};

interface ProjectMembers {
  id: string;
  name: string;
  myRole: ProjectRole;
  members: ProjectMember[];
}

function roleLabel(role: ProjectRole): string {
  return role.toLowerCase();
}

function messageOf(failure: unknown): string {
  return failure instanceof Error ? failure.message : String(failure);
}

/**
 * Who may see the selected project, and with which role. Only an OWNER gets the controls; the
 * server checks the role again and keeps the last owner, and its refusals are shown as they are.
 * `me` is the signed-in user's name (null in local mode, where nobody is a member).
 */
export function Members({ projectId, me }: { projectId: string; me: string | null }) {
  const project = useQuery<{ project: ProjectMembers }>(PROJECT_QUERY, { id: projectId });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  /** Runs one change; the list is read again either way, so it shows what the server kept. */
  const change = async (run: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setError(null);
    try {
      await run();
      return true;
    } catch (failure) {
      setError(messageOf(failure));
      return false;
    } finally {
      setBusy(false);
      project.reload();
    }
  };

  const setRole = (user: string, role: ProjectRole) =>
    change(() => gql(SET_MEMBER, { input: { projectId, user, role } }));

  const remove = async (user: string) => {
    const removed = await change(() => gql(REMOVE_MEMBER, { projectId, user }));
    // Without the membership the project is gone from this user's list (unless they are an admin):
    // a navigation rereads the projects.
    if (removed && user === me) navigate('leaderboard', {});
  };

  return (
    <section class="view members">
      <Await
        state={project.state}
        what="members"
        ready={({ project: p }) => {
          const owner = p.myRole === 'OWNER';
          return (
            <>
              <h2>Members of {p.name}</h2>
              <p class="hint">
                Your role here: {roleLabel(p.myRole)}.{' '}
                {owner ? 'As an owner you add, change and remove members; a project keeps at least one owner.' : 'Only an owner changes members.'}
              </p>
              {error && <ErrorBox message={error} />}
              {p.members.length === 0 ? (
                <Empty>
                  <p>No member yet.</p>
                  {me === null && <p>In local mode everyone is the local admin; members matter once authentication is on.</p>}
                </Empty>
              ) : (
                <MemberTable members={p.members} owner={owner} busy={busy} me={me} onRole={setRole} onRemove={remove} />
              )}
              {owner && <AddMember busy={busy} onAdd={(user, role) => change(() => gql(SET_MEMBER, { input: { projectId, user, role } }))} />}
            </>
          );
        }}
      />
    </section>
  );
}

interface MemberTableProps {
  members: ProjectMember[];
  owner: boolean;
  busy: boolean;
  me: string | null;
  onRole: (user: string, role: ProjectRole) => void;
  onRemove: (user: string) => void;
}

function MemberTable({ members, owner, busy, me, onRole, onRemove }: MemberTableProps) {
  const [confirming, setConfirming] = useState<string | null>(null);
  return (
    <table class="grid">
      <thead>
        <tr>
          <th>User</th>
          <th>Role</th>
          <th>Member since</th>
          {owner && <th />}
        </tr>
      </thead>
      <tbody>
        {members.map(({ user, role, createdAt }) => (
          <tr key={user.name} data-member={user.name} data-role={role}>
            <td>
              {user.name}
              {user.name === me && <span class="hint"> (you)</span>}
            </td>
            <td>
              {owner ? (
                <select aria-label={`Role of ${user.name}`} value={role} disabled={busy} onChange={(e) => onRole(user.name, e.currentTarget.value as ProjectRole)}>
                  {ROLES.map((r) => (
                    <option key={r} value={r}>
                      {roleLabel(r)}
                    </option>
                  ))}
                </select>
              ) : (
                <span title={ROLE_HINT[role]}>{roleLabel(role)}</span>
              )}
            </td>
            <td>{dateOf(createdAt)}</td>
            {owner && (
              <td>
                {confirming === user.name ? (
                  <span class="confirm">
                    {user.name === me ? 'Remove yourself? You lose access to this project.' : `Remove ${user.name} from this project?`}{' '}
                    <button
                      disabled={busy}
                      onClick={() => {
                        setConfirming(null);
                        onRemove(user.name);
                      }}
                    >
                      Yes, remove
                    </button>{' '}
                    <button disabled={busy} onClick={() => setConfirming(null)}>
                      Keep
                    </button>
                  </span>
                ) : (
                  <button disabled={busy} onClick={() => setConfirming(user.name)}>
                    Remove
                  </button>
                )}
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function AddMember({ busy, onAdd }: { busy: boolean; onAdd: (user: string, role: ProjectRole) => Promise<boolean> }) {
  const [user, setUser] = useState('');
  const [role, setRole] = useState<ProjectRole>('VIEWER');

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    if (await onAdd(user.trim(), role)) setUser('');
  };

  return (
    <form class="filters add-member" onSubmit={submit} aria-label="Add a member">
      <label>
        User name
        <input name="memberName" required autoComplete="off" value={user} onInput={(e) => setUser(e.currentTarget.value)} />
      </label>
      <label>
        Role
        <select name="memberRole" value={role} onChange={(e) => setRole(e.currentTarget.value as ProjectRole)}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {roleLabel(r)} — {ROLE_HINT[r]}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={busy}>
        Add member
      </button>
      <span class="hint">A member already in the list gets the new role.</span>
    </form>
  );
}
