// Next 16's proxy (middleware.ts on Next 15): on every page it keeps the session alive (idle
// window), refreshes due tokens and deletes dead cookies before the render; /private needs a session.
import { auth } from './lib/auth';

export const proxy = auth.proxy({ protect: ['/private'] });

export const config = {
  // Not the auth routes (their handlers do it all), the event stream, Next's assets, or /session
  // (it shows what a server component sees on its own).
  matcher: ['/((?!auth/|events|session|_next/|favicon.ico).*)'],
};
