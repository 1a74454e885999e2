/**
 * `node --import tsx bench/profile.ts [cookie|server] [sessions] [seconds]`: the hot path of a
 * signed-in request in one process, without HTTP — `auth.readSession(cookieHeader)` over many
 * distinct sessions — for `node --cpu-prof` and for CPU time per read. The HTTP benchmarks
 * (`npm run bench`) measure the same path behind a server; this one isolates the library's share.
 */
import { writeFileSync } from 'node:fs';
import { Session as Inspector } from 'node:inspector/promises';
import { cpuUsage } from 'node:process';
import { installNodeSealing } from '../src/adapters/node.js';
import { Context } from '../src/core/context.js';
import { newSession } from '../src/core/session/record.js';
import { Sealer } from '../src/core/session/seal.js';
import type { ResolvedConfig } from '../src/core/types.js';
import { createAuth } from '../src/index.js';

const [mode = 'cookie', count = '100000', seconds = '5'] = process.argv.slice(2);
const SECRET = 'profile-secret-profile-secret-profile-secret';
installNodeSealing();

const auth = createAuth({
  baseUrl: 'http://127.0.0.1:3000',
  secret: SECRET,
  providers: { default: { issuer: 'http://127.0.0.1:3001', clientId: 'demo', clientSecret: 'x' } },
  session: { mode: mode === 'server' ? 'server' : 'cookie', ...(process.env.IDLE ? { idleDuration: Number(process.env.IDLE) } : {}) },
  logger: { warn: () => {}, error: (m) => console.error(m) },
});

// A realistic ID token: header, a payload with the claims a login carries, a 256-byte signature.
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
function idToken(sub: string): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: 'http://127.0.0.1:3001',
    aud: 'demo',
    sub,
    sid: `sid-${sub}`,
    iat: now,
    exp: now + 3600,
    name: `User ${sub}`,
    email: `${sub}@example.com`,
    email_verified: true,
    nonce: 'n'.repeat(43),
    at_hash: 'a'.repeat(22),
  };
  return `${b64({ alg: 'RS256', kid: 'k1', typ: 'JWT' })}.${b64(payload)}.${Buffer.alloc(256, 7).toString('base64url')}`;
}

const config = { ...auth.config, secrets: [SECRET] } as unknown as ResolvedConfig;
const minter = new Context(config, await Sealer.create([SECRET]));
const headers: string[] = [];
for (let i = 0; i < Number(count); i++) {
  const sub = `user-${i}`;
  const token = idToken(sub);
  const record = newSession({
    provider: 'default',
    issuer: 'http://127.0.0.1:3001',
    subject: sub,
    sid: `sid-${sub}`,
    user: { sub, name: `User ${sub}` },
    idToken: token,
    absoluteDuration: 86_400 * 7,
  });
  const set = await minter.sessions.write(record, { sessionId: record.id, accessToken: 'a'.repeat(43) }, new Map());
  headers.push(`_ga=GA1.1.123.456; theme=dark; ${set.map((line) => line.split(';', 1)[0]).join('; ')}`);
}
console.log(`${headers.length} ${mode} sessions minted; cookie header ${headers[0]!.length} bytes`);

// PROFILE=file.cpuprofile: a CPU profile of the reads alone (not of the minting).
const inspector = process.env.PROFILE ? new Inspector() : null;
if (inspector) {
  inspector.connect();
  await inspector.post('Profiler.enable');
  await inspector.post('Profiler.start');
}
let reads = 0;
const started = cpuUsage();
const until = Date.now() + Number(seconds) * 1000;
while (Date.now() < until) {
  for (let i = 0; i < 1000; i++) {
    const { session } = await auth.readSession(headers[reads++ % headers.length]);
    if (!session) throw new Error('a minted session did not read');
  }
}
const cpu = cpuUsage(started);
if (inspector) {
  const { profile } = await inspector.post('Profiler.stop');
  writeFileSync(process.env.PROFILE!, JSON.stringify(profile));
}
console.log(`${reads} reads, ${((cpu.user + cpu.system) / reads).toFixed(1)} µs CPU each`);
