/**
 * `npm run dev-provider`: only the embedded development provider, for your own app while you
 * build it (the quickstarts of the README, a Next.js or Hono app). It registers one client for
 * APP_URL (default http://127.0.0.1:4000): redirect URI APP_URL/auth/callback, post-logout
 * redirect URI APP_URL/auth/logout/callback, back-channel logout APP_URL/auth/backchannel-logout/default.
 */
import { demoClient, startDevProvider } from './dev-provider.js';

const appUrl = (process.env.APP_URL ?? 'http://127.0.0.1:4000').replace(/\/$/, '');
const provider = await startDevProvider({
  host: '127.0.0.1',
  port: Number(process.env.PROVIDER_PORT ?? 3001),
  clients: [demoClient(appUrl)],
});
console.log(`development OpenID provider for ${appUrl}:`);
console.log(`  OIDC_ISSUER=${provider.issuer} OIDC_CLIENT_ID=demo OIDC_CLIENT_SECRET=demo-secret APP_URL=${appUrl}`);
console.log(`  sign in as ${provider.users.map((u) => `${u.login} / ${u.password}`).join(' or ')}`);
