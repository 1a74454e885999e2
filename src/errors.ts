/**
 * One error base class for the whole library (docs/architecture.md, "Errors"): a stable string `code`
 * from a union type, a message that says what to do next, and the original `cause`.
 */
/**
 * Failures at the HTTP boundary become pages or spec-shaped JSON, never exceptions; these
 * codes are what reaches code: configuration, a provider whose discovery fails, and a
 * bounded store (the memory store's `maxEntries`) that refuses a write rather than evict.
 */
export type OidcSessionErrorCode = 'CONFIG_INVALID' | 'DISCOVERY_FAILED' | 'STORE_FULL';

export class OidcSessionError extends Error {
  override name = 'OidcSessionError';
  readonly code: OidcSessionErrorCode;

  constructor(code: OidcSessionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * Thrown by `createAuth()` before any handler exists, listing every problem found, each
 * naming the option. One base class for everything the library throws, so
 * `instanceof OidcSessionError` catches it too.
 */
export class ConfigError extends OidcSessionError {
  override name = 'ConfigError';
  override readonly code = 'CONFIG_INVALID' as const;
  readonly problems: readonly string[];

  constructor(problems: string[]) {
    super(
      'CONFIG_INVALID',
      problems.length === 1
        ? `oidc-session: invalid configuration: ${problems[0]}`
        : `oidc-session: invalid configuration:\n  - ${problems.join('\n  - ')}`,
    );
    this.problems = Object.freeze([...problems]);
  }
}
