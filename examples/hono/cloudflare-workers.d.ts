/** The one Workers module worker.ts imports, typed without `@cloudflare/workers-types`. */
declare module 'cloudflare:workers' {
  /** The Worker's bindings (vars, secrets, Durable Object namespaces), readable at module scope. */
  export const env: Record<string, unknown>;
}
