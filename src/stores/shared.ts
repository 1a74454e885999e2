/**
 * Argument checks shared by the stores. Web/ES only (the memory store compiles without Node
 * types), and argument errors are TypeErrors that quote the argument (docs/architecture.md, "Errors").
 */

/** Every store rounds a TTL up to whole seconds, so an entry lives at least as long as asked in all of them. */
export function wholeSeconds(ttlSeconds: number, store: string): number {
  if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new TypeError(`${store}: "ttlSeconds" must be a positive finite number of seconds, got ${String(ttlSeconds)}`);
  }
  return Math.ceil(ttlSeconds);
}

export function assertString(value: unknown, what: string, store: string): asserts value is string {
  if (typeof value !== 'string') throw new TypeError(`${store}: ${what} must be a string, got ${typeof value}`);
}

export function assertStrings(values: readonly unknown[], what: string, store: string): asserts values is readonly string[] {
  if (!Array.isArray(values)) throw new TypeError(`${store}: ${what} must be an array of strings`);
  for (const value of values) assertString(value, `each of ${what}`, store);
}

/**
 * Redis and PostgreSQL speak UTF-8: a lone surrogate would be stored as U+FFFD, so two different
 * keys could silently become one. Refusing them keeps "round-trips exactly" true.
 */
const LONE_SURROGATE = /\p{Cs}/u;

export function assertEncodable(value: string, what: string, store: string, refuseNul = false): void {
  if (LONE_SURROGATE.test(value)) {
    throw new TypeError(`${store}: ${what} contains a lone UTF-16 surrogate, which cannot be stored exactly; encode it first`);
  }
  if (refuseNul && value.includes('\0')) {
    throw new TypeError(`${store}: ${what} contains a NUL character, which PostgreSQL text cannot hold; encode it first`);
  }
}

export function positiveOption(value: unknown, name: string, store: string, fallback: number, integer = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new TypeError(`${store}: "${name}" must be a positive ${integer ? 'integer' : 'number'}, got ${String(value)}`);
  }
  return value;
}

/** Timers a store owns must never keep the process alive (Node); elsewhere unref does not exist. */
export function unrefTimer(timer: unknown): void {
  (timer as { unref?: () => void }).unref?.();
}
