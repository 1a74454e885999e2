import type { PublicConfig, Session } from 'oidc-session';
import { auth, storeName } from '../lib/auth';
import { displayName, logoutLog } from '../lib/events';
import { EventsPanel } from './events-panel';

/** `?signedOut=…`: the returnTo the sign-out forms send, so the page can say what happened. */
const SIGNED_OUT_NOTES: Record<string, string> = {
  here: 'You signed out of this app. The provider still remembers you: signing in again will not ask for your password.',
  provider: 'You signed out of this app and of the provider. Signing in again asks for your password.',
  everywhere: 'You signed out of this app on every device, and of the provider. Signing in again asks for your password.',
};

/** The embedded provider's accounts (examples/demo/dev-provider.ts), listed when it runs. */
const DEMO_USERS = [
  { login: 'alice', password: 'alice-password' },
  { login: 'bob', password: 'bob-password' },
];

/** The three sign-outs an app can start; the forms differ only in `federated` and `scope`. */
const SIGN_OUTS = [
  { label: 'Sign out here', fields: { federated: 'false' }, note: 'here', hint: 'Local: this app, this browser.' },
  { label: 'Sign out of the provider too', fields: {}, note: 'provider', hint: 'RP-initiated: this app and the provider.' },
  { label: 'Sign out everywhere', fields: { scope: 'all' }, note: 'everywhere', hint: 'Every device of yours, then the provider.' },
] as const;

export default async function Home({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const session = await auth.getSession();
  const { config } = await auth.instance();
  const signedOut = String((await searchParams).signedOut);
  const note = !session && Object.hasOwn(SIGNED_OUT_NOTES, signedOut) ? SIGNED_OUT_NOTES[signedOut] : undefined;
  return (
    <main className="layout">
      <div className="column">
        {session ? (
          <SignedIn session={session} config={config} csrfToken={await auth.csrfToken()} />
        ) : (
          <SignedOut config={config} note={note} />
        )}
      </div>
      <EventsPanel initial={logoutLog().entries()} signedIn={session !== null} />
    </main>
  );
}

function SignedOut({ config, note }: { config: PublicConfig; note: string | undefined }) {
  const embedded = process.env.DEMO_EMBEDDED_PROVIDER === '1';
  const issuer = Object.values(config.providers)[0]?.issuer;
  return (
    <>
      {note ? (
        <p className="notice" role="status">
          {note}
        </p>
      ) : null}
      <section className="card signed-out">
        <h1>Not signed in</h1>
        <p>Sign in, then try each kind of sign-out and watch the events panel.</p>
        <p className="muted">{embedded ? `embedded development provider at ${issuer}` : `provider ${issuer}`}</p>
        <div className="actions">
          {Object.values(config.providers).map((p) => (
            <a key={p.name} className="button primary" href={`${config.basePath}/login?provider=${encodeURIComponent(p.name)}&returnTo=/`}>
              Sign in with {p.displayName}
            </a>
          ))}
        </div>
        {embedded ? (
          <>
            <h2>Demo accounts</h2>
            <table className="kv">
              <thead>
                <tr>
                  <th>login</th>
                  <th>password</th>
                </tr>
              </thead>
              <tbody>
                {DEMO_USERS.map((u) => (
                  <tr key={u.login}>
                    <td>
                      <code>{u.login}</code>
                    </td>
                    <td>
                      <code>{u.password}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ) : null}
        <p className="muted">
          <a href="/private">A private page</a> sends you to sign in first.
        </p>
      </section>
    </>
  );
}

function SignedIn({ session, config, csrfToken }: { session: Session; config: PublicConfig; csrfToken: string }) {
  const provider = config.providers[session.provider];
  const latest = session.createdAt + config.absoluteDuration;
  return (
    <>
      <p className="notice ended" id="session-ended" role="status" hidden>
        This session has ended (a logout arrived). <a href="/">Reload</a>
      </p>
      <section className="card who">
        <div className="avatar" aria-hidden="true">
          {displayName(session).slice(0, 1).toUpperCase()}
        </div>
        <div>
          <h1>{displayName(session)}</h1>
          {typeof session.user.email === 'string' ? <p className="muted">{session.user.email}</p> : null}
        </div>
        <dl className="facts">
          <dt>Provider</dt>
          <dd>
            <b>{provider?.displayName ?? session.provider}</b>{' '}
            <span className="muted">
              ({session.provider}, {session.iss})
            </span>
          </dd>
          <dt>Session</dt>
          <dd>
            <b>{config.mode}</b> mode, <b>{storeName()}</b> store
          </dd>
          <dt>Began</dt>
          <dd>
            <Time at={session.createdAt} />
          </dd>
          <dt>Expires</dt>
          <dd>
            <Time at={session.expiresAt} />
            {session.expiresAt < latest ? (
              <span className="muted">
                {' '}
                if idle; at the latest <Time at={latest} />
              </span>
            ) : null}
          </dd>
          <dt>Provider session</dt>
          <dd>{session.sid ? <code>{session.sid}</code> : <span className="muted">no sid</span>}</dd>
        </dl>
        <SignOutForms action={`${config.basePath}/logout`} csrfToken={csrfToken} />
      </section>
      <section className="card">
        <h2>Claims</h2>
        <Claims claims={session.user} />
      </section>
      <section className="card">
        <h2>Exposed tokens</h2>
        <Tokens session={session} />
      </section>
      <p className="muted links">
        <a href="/api/me">/api/me</a> · <a href="/private">a private page</a> ·{' '}
        <a href={`${config.basePath}/logout`}>the sign-out confirmation page</a>
      </p>
    </>
  );
}

/**
 * Sign-out is a POST with the CSRF token, never a link: plain forms, no client JavaScript.
 * `returnTo` says where to land; `federated=false` keeps the provider session; `scope=all` ends every device's.
 */
function SignOutForms({ action, csrfToken }: { action: string; csrfToken: string }) {
  const providerSignOutUrl = process.env.DEMO_EMBEDDED_PROVIDER === '1' ? `${process.env.OIDC_ISSUER}/session/end` : undefined;
  return (
    <div className="signouts">
      <h2>Sign out</h2>
      <div className="actions">
        {SIGN_OUTS.map(({ label, fields, note, hint }, i) => (
          <form key={note} method="post" action={action} className="signout">
            <input type="hidden" name="csrfToken" value={csrfToken} />
            <input type="hidden" name="returnTo" value={`/?signedOut=${note}`} />
            {Object.entries(fields).map(([name, value]) => (
              <input key={name} type="hidden" name={name} value={value} />
            ))}
            <button className={`button${i === 2 ? ' primary' : ''}`} type="submit">
              {label}
            </button>
            <small>{hint}</small>
          </form>
        ))}
      </div>
      {providerSignOutUrl ? (
        <p className="muted">
          Or{' '}
          <a href={providerSignOutUrl} target="_blank" rel="noopener">
            sign out at the provider itself
          </a>{' '}
          (new tab) and watch its back-channel logout arrive in the panel.
        </p>
      ) : null}
    </div>
  );
}

const TIME_CLAIMS = new Set(['exp', 'iat', 'nbf', 'auth_time', 'updated_at']);

function Claims({ claims }: { claims: Record<string, unknown> }) {
  return (
    <table className="kv">
      <tbody>
        {Object.entries(claims).map(([name, value]) => (
          <tr key={name}>
            <th>{name}</th>
            <td>
              {TIME_CLAIMS.has(name) && typeof value === 'number' ? (
                <>
                  <Time at={value} /> <span className="muted">({value})</span>
                </>
              ) : typeof value === 'string' ? (
                value
              ) : (
                <code>{JSON.stringify(value)}</code>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Tokens({ session }: { session: Session }) {
  const { tokens } = session;
  const shown = (
    [
      ['ID token', tokens.id],
      ['Access token', tokens.access],
      ['Refresh token', tokens.refresh],
    ] as const
  ).filter(([, token]) => token);
  if (shown.length === 0) {
    return (
      <p className="muted">
        None: see the <code>exposeTokens</code> option.
      </p>
    );
  }
  return shown.map(([kind, token]) => {
    const claims = decodeJwt(token!);
    return (
      <div key={kind}>
        <h3>
          {kind}
          {kind === 'Access token' && tokens.accessExpiresAt ? (
            <span className="muted">
              {' '}
              expires <Time at={tokens.accessExpiresAt} />
            </span>
          ) : null}
        </h3>
        <p className="token">
          <code>{token!.slice(0, 48)}…</code> <span className="muted">{token!.length} chars</span>
        </p>
        {claims ? <Claims claims={claims} /> : <p className="muted">Opaque: not a JWT, nothing to decode.</p>}
      </div>
    );
  });
}

function decodeJwt(token: string): Record<string, unknown> | null {
  try {
    const claims: unknown = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return claims !== null && typeof claims === 'object' && !Array.isArray(claims) ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function Time({ at }: { at: number }) {
  const iso = new Date(at * 1000).toISOString();
  return <time dateTime={iso}>{iso.replace('T', ' ').slice(0, 19)} UTC</time>;
}
