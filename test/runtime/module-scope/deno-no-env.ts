/**
 * Run by Deno with no --allow-env: createAuth() at module scope must not read the environment
 * (Deno throws NotCapable on process.env without the permission), and a first request works.
 */
import { createAuth } from '../../../src/index.js';

const auth = createAuth({
  baseUrl: 'http://127.0.0.1:3000',
  secret: 'module-scope-secret-module-scope-secret',
  providers: { default: { issuer: 'https://login.example.com', clientId: 'app', clientSecret: 'secret' } },
});
const response = await auth.handle(new Request('http://127.0.0.1:3000/auth/csrf'));
console.log(`csrf ${response?.status}`);
