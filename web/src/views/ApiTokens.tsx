import { useEffect, useRef, useState } from 'preact/hooks';
import { gql } from '../api/client';
import type { ApiToken, CreatedToken, TokenScope } from '../api/types';
import { Await, Empty, ErrorBox } from '../components/Status';
import { dateOf } from '../format';
import { useLoad, useQuery } from '../hooks';

const TOKEN_FIELDS = 'id name prefix scopes createdAt expiresAt lastUsedAt revokedAt';
const TOKENS_QUERY = `query ApiTokens { apiTokens { ${TOKEN_FIELDS} } }`;
const VIEWER_QUERY = `query TokenViewer { viewer { name admin } }`;
const CREATE = `mutation CreateToken($input: CreateTokenInput!) { createToken(input: $input) { secret token { ${TOKEN_FIELDS} } } }`;
const REVOKE = `mutation RevokeToken($id: ID!) { revokeToken(id: $id) { ${TOKEN_FIELDS} } }`;

/** The server's limit (MAX_TOKEN_DAYS); checked here only to answer before a round trip. */
const MAX_DAYS = 3650;
const DEFAULT_DAYS = '90';

interface ScopeOption {
  readonly scope: TokenScope;
  readonly hint: string;
  /** WORKER runs any project's jobs and ADMIN manages users: the server lets only admins grant them. */
  readonly adminOnly: boolean;
}

const SCOPES: readonly ScopeOption[] = [
  { scope: 'READ', hint: 'queries and subscriptions', adminOnly: false },
  { scope: 'WRITE', hint: 'also mutations: runs, uploads, cancels', adminOnly: false },
  { scope: 'ADMIN', hint: 'also users and every project', adminOnly: true },
  { scope: 'WORKER', hint: 'only the worker protocol', adminOnly: true },
];

function messageOf(failure: unknown): string {
  return failure instanceof Error ? failure.message : String(failure);
}

/**
 * The caller's API tokens for the CLI, notebooks and workers. A new token's secret lives only in
 * this component's state: it is dropped when the view unmounts, and never written to the URL or
 * to web storage, so the server's "shown once" holds in the browser too.
 */
export function ApiTokens({ local }: { local: boolean }) {
  // In local mode there is no user to own a token: apiTokens would only answer an error.
  const tokens = useLoad(() => gql<{ apiTokens: ApiToken[] }>(TOKENS_QUERY), local ? null : TOKENS_QUERY);
  const viewer = useQuery<{ viewer: { name: string; admin: boolean } }>(VIEWER_QUERY);
  const admin = viewer.state.status === 'ready' && viewer.state.data.viewer.admin;

  return (
    <section class="view tokens">
      <h2>API tokens</h2>
      {local ? (
        <Empty>
          <p>This server runs in local mode, with authentication off: the CLI and notebooks reach it without a token.</p>
          <p>API tokens are for servers with authentication on; create them there, signed in as yourself.</p>
        </Empty>
      ) : (
        <p class="hint">
          A token lets the CLI (<code>slimlab login</code>, <code>SLIMLAB_TOKEN</code>), a notebook or a script act as you, within its scopes. It is sent as{' '}
          <code>Authorization: Bearer &lt;token&gt;</code>.
        </p>
      )}
      <CreateToken disabled={local} admin={admin} onCreated={tokens.reload} />
      {!local && (
        <Await
          state={tokens.state}
          what="tokens"
          ready={({ apiTokens }) =>
            apiTokens.length === 0 ? (
              <Empty>
                <p>No token yet.</p>
              </Empty>
            ) : (
              <TokenTable tokens={apiTokens} onRevoked={(token) => tokens.update((data) => ({ apiTokens: data.apiTokens.map((t) => (t.id === token.id ? token : t)) }))} />
            )
          }
        />
      )}
    </section>
  );
}

function CreateToken({ disabled, admin, onCreated }: { disabled: boolean; admin: boolean; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<readonly TokenScope[]>(['READ']);
  const [days, setDays] = useState(DEFAULT_DAYS);
  const [never, setNever] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);

  // Leaving the page (including into the back-forward cache) forgets the secret as well.
  useEffect(() => {
    const forget = () => setCreated(null);
    window.addEventListener('pagehide', forget);
    return () => window.removeEventListener('pagehide', forget);
  }, []);

  const offered = SCOPES.filter((option) => admin || !option.adminOnly);
  const chosen = offered.map((o) => o.scope).filter((scope) => scopes.includes(scope));
  const toggle = (scope: TokenScope) => setScopes((s) => (s.includes(scope) ? s.filter((x) => x !== scope) : [...s, scope]));

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    const expiresInDays = never ? null : Number(days.trim());
    if (expiresInDays !== null && !(Number.isInteger(expiresInDays) && expiresInDays >= 1 && expiresInDays <= MAX_DAYS)) {
      setError(`Expiry: a whole number of days from 1 to ${MAX_DAYS}, or choose "never".`);
      return;
    }
    setBusy(true);
    setError(null);
    setCreated(null);
    try {
      const { createToken } = await gql<{ createToken: CreatedToken }>(CREATE, { input: { name: name.trim(), scopes: chosen, expiresInDays } });
      setCreated({ name: createToken.token.name, secret: createToken.secret });
      setName('');
      onCreated();
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <form class="create-token" onSubmit={submit}>
        <fieldset disabled={disabled || busy}>
          <legend>Create a token</legend>
          <label>
            Name
            <input name="tokenName" required maxLength={100} placeholder="laptop notebook" autoComplete="off" value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <div class="scopes" role="group" aria-label="Scopes">
            {offered.map((option) => (
              <label key={option.scope} class="check" title={option.hint}>
                <input type="checkbox" checked={scopes.includes(option.scope)} onChange={() => toggle(option.scope)} />
                {option.scope}
                <span class="hint">{option.hint}</span>
              </label>
            ))}
          </div>
          <label>
            Expires in (days)
            <input name="expiresInDays" type="number" min={1} max={MAX_DAYS} step={1} disabled={never} value={days} onInput={(e) => setDays(e.currentTarget.value)} />
          </label>
          <label class="check">
            <input type="checkbox" checked={never} onChange={() => setNever(!never)} />
            never
          </label>
          <button type="submit" disabled={chosen.length === 0}>
            {busy ? 'Creating…' : 'Create token'}
          </button>
        </fieldset>
        {chosen.length === 0 && !disabled && <span class="hint">Choose at least one scope.</span>}
      </form>
      {error && <ErrorBox message={error} />}
      {created && <NewSecret name={created.name} secret={created.secret} onDone={() => setCreated(null)} />}
    </>
  );
}

/** The one time the secret is on screen: read-only, outside any form, copied on request. */
function NewSecret({ name, secret, onDone }: { name: string; secret: string; onDone: () => void }) {
  const field = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<string | null>(null);

  const copy = async () => {
    const input = field.current;
    if (!input) return;
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('Copied.');
    } catch {
      // The Clipboard API needs a secure context (https or localhost); over plain http on another
      // address the selection is copied instead.
      input.select();
      setCopied(document.execCommand('copy') ? 'Copied.' : 'Copying failed: the token is selected, copy it with the keyboard.');
    }
  };

  return (
    <section class="secret" aria-labelledby="secret-title">
      <h3 id="secret-title">Token “{name}” created</h3>
      <p>
        <strong>This token will not be shown again.</strong> Copy it now and keep it where only you can read it.
      </p>
      <div class="secret-row">
        <label>
          New token
          <input ref={field} class="mono" readOnly value={secret} autoComplete="off" spellcheck={false} onFocus={(e) => e.currentTarget.select()} />
        </label>
        <button onClick={copy}>Copy</button>
        <button onClick={onDone}>Done</button>
        {copied && (
          <span class="hint" role="status">
            {copied}
          </span>
        )}
      </div>
    </section>
  );
}

function tokenState(token: ApiToken, now: number): 'revoked' | 'expired' | 'active' {
  if (token.revokedAt) return 'revoked';
  if (token.expiresAt && Date.parse(token.expiresAt) <= now) return 'expired';
  return 'active';
}

function TokenTable({ tokens, onRevoked }: { tokens: ApiToken[]; onRevoked: (token: ApiToken) => void }) {
  const [confirming, setConfirming] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const now = Date.now();

  const revoke = async (id: string) => {
    setBusy(true);
    setError(null);
    try {
      onRevoked((await gql<{ revokeToken: ApiToken }>(REVOKE, { id })).revokeToken);
      setConfirming(null);
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      {error && <ErrorBox message={error} />}
      <table class="grid">
        <thead>
          <tr>
            <th>Name</th>
            <th>Token</th>
            <th>Scopes</th>
            <th>Created</th>
            <th>Expires</th>
            <th>Last used</th>
            <th>Status</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {tokens.map((token) => {
            const state = tokenState(token, now);
            return (
              <tr key={token.id} data-token={token.id} data-state={state}>
                <td>{token.name}</td>
                <td class="mono">{token.prefix}…</td>
                <td>{token.scopes.join(', ')}</td>
                <td>{dateOf(token.createdAt)}</td>
                <td>{dateOf(token.expiresAt, 'never')}</td>
                <td>{dateOf(token.lastUsedAt, 'never')}</td>
                <td>
                  <span class={`badge ${state === 'active' ? 'succeeded' : state === 'revoked' ? 'failed' : 'cancelled'}`}>{state}</span>
                  {token.revokedAt && <div class="hint">{dateOf(token.revokedAt)}</div>}
                </td>
                <td>
                  {state !== 'revoked' &&
                    (confirming === token.id ? (
                      <span class="confirm">
                        Stop “{token.name}” now? Whatever uses it loses access.{' '}
                        <button disabled={busy} onClick={() => revoke(token.id)}>
                          Yes, revoke
                        </button>{' '}
                        <button disabled={busy} onClick={() => setConfirming(null)}>
                          Keep
                        </button>
                      </span>
                    ) : (
                      <button onClick={() => setConfirming(token.id)}>Revoke</button>
                    ))}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}
