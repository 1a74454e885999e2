import { auth } from '../../lib/auth';
import { displayName } from '../../lib/events';

/**
 * The session as a server component alone sees it: the proxy does not run for this page
 * (proxy.ts), so nothing here rolls the idle window or refreshes a token — a server component
 * cannot set cookies, and `getSession()` only reads there.
 */
export default async function SessionPage() {
  const session = await auth.getSession();
  return (
    <main className="narrow">
      <section className="card">
        <h1>{session ? displayName(session) : 'No session'}</h1>
        <p className="muted">Read by a server component, without the proxy.</p>
        {session ? (
          <dl className="facts">
            <dt>Provider session</dt>
            <dd>{session.sid ? <code>{session.sid}</code> : <span className="muted">no sid</span>}</dd>
            <dt>Access token</dt>
            <dd>
              {session.tokens.access ? <code id="access-token">{session.tokens.access}</code> : <span className="muted">not exposed</span>}
            </dd>
          </dl>
        ) : null}
        <p>
          <a href="/">Home</a>
        </p>
      </section>
    </main>
  );
}
