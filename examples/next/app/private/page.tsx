import { auth } from '../../lib/auth';
import { displayName } from '../../lib/events';

/** The proxy lets only signed-in requests reach this page (proxy.ts). */
export default async function PrivatePage() {
  const session = await auth.getSession();
  return (
    <main className="narrow">
      <section className="card">
        <h1>Private page</h1>
        <p>Only signed-in users see this, {session ? displayName(session) : 'nobody'}.</p>
        <p>
          <a href="/">Home</a>
        </p>
      </section>
    </main>
  );
}
