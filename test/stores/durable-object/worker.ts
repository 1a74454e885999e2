/**
 * The test Worker, bundled and run in workerd by miniflare: it builds `durableObjectStore` from its
 * own binding and exposes each Store method over HTTP, so every call the conformance suite makes
 * runs the real store code inside workerd and reaches the real Durable Object.
 *
 *   POST /call  {options, method, args}  → {result} | {error}
 *   GET  /info                           → the store's storeInfo
 *   GET  /rows?name=…                    → rows held by a SweptStore instance, expired or not
 */
import type { Store } from '../../../src/core/store.js';
import { storeInfo } from '../../../src/core/store.js';
import {
  type DurableObjectNamespaceLike,
  type DurableObjectStateLike,
  type DurableObjectStoreOptions,
  durableObjectStore,
  OidcSessionStore,
} from '../../../src/stores/durable-object.js';
import { type CallAnswer, decodeCall, encodeCall } from './codec.js';

export { OidcSessionStore };

/** The real class with a one-second sweep, and a row count for the tests that watch the sweep. */
export class SweptStore extends OidcSessionStore {
  protected override readonly sweepIntervalSeconds = 1;
  readonly #state: DurableObjectStateLike;

  constructor(state: DurableObjectStateLike, env: unknown) {
    super(state, env);
    this.#state = state;
  }

  override async fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname !== '/rows') return super.fetch(request);
    const [values] = this.#state.storage.sql.exec('SELECT count(*) AS n FROM oidc_value').toArray();
    const [members] = this.#state.storage.sql.exec('SELECT count(*) AS n FROM oidc_member').toArray();
    return Response.json({ values: values?.n, members: members?.n, alarm: await this.#state.storage.getAlarm() });
  }
}

interface Env {
  STORE: DurableObjectNamespaceLike;
  SWEPT: DurableObjectNamespaceLike;
}

interface CallRequest {
  binding?: 'STORE' | 'SWEPT';
  options?: DurableObjectStoreOptions;
  method: keyof Store;
  args: unknown[];
}

/** One store per binding and options in this isolate, as an app would keep one. */
const stores = new Map<string, Store>();

function storeFor(env: Env, binding: 'STORE' | 'SWEPT', options: DurableObjectStoreOptions = {}): Store {
  const id = JSON.stringify([binding, options]);
  let store = stores.get(id);
  if (store === undefined) {
    store = durableObjectStore(env[binding], options);
    stores.set(id, store);
  }
  return store;
}

async function call(request: Request, env: Env): Promise<Response> {
  const { binding = 'STORE', options, method, args } = decodeCall(await request.text()) as CallRequest;
  const store = storeFor(env, binding, options);
  let answer: CallAnswer;
  try {
    const fn = store[method] as (...args: unknown[]) => Promise<unknown>;
    answer = { result: (await fn.apply(store, args)) ?? null };
  } catch (error) {
    const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
    answer = { error: { name, message, typeError: error instanceof TypeError } };
  }
  return new Response(encodeCall(answer), { headers: { 'content-type': 'application/json' } });
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/call') return call(request, env);
    if (url.pathname === '/info') return Response.json((storeFor(env, 'STORE') as Store & { [storeInfo]?: unknown })[storeInfo] ?? null);
    if (url.pathname === '/rows') {
      const name = url.searchParams.get('name') ?? 'oidc-session';
      return env.SWEPT.get(env.SWEPT.idFromName(name) as never).fetch('https://rows/rows');
    }
    return new Response('not found', { status: 404 });
  },
};
