import { auth } from '../../../lib/auth';

/** The JSON contract of the demo: 200 with the user, 401 otherwise. */
export async function GET(): Promise<Response> {
  const session = await auth.getSession();
  const headers = { 'Cache-Control': 'no-store' };
  if (!session) return Response.json({ user: null }, { status: 401, headers });
  return Response.json({ user: session.user, provider: session.provider, tokens: session.tokens }, { headers });
}
