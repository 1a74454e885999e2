/**
 * How many store writes one kind of unauthenticated or provider-driven request may cause per
 * minute, per instance: a fixed one-minute window. It bounds what a stranger (front-channel)
 * or a leaked provider key (back-channel) can make the store hold: at most the budget times
 * the entry's lifetime in minutes.
 */
export class WriteBudget {
  readonly perMinute: number;
  #window = -1;
  #used = 0;
  #refused = 0;

  constructor(perMinute: number) {
    this.perMinute = perMinute;
  }

  /** Takes one write from this minute's budget; false when it is spent. */
  take(now = Date.now()): boolean {
    const window = Math.floor(now / 60_000);
    if (window !== this.#window) {
      this.#window = window;
      this.#used = 0;
      this.#refused = 0;
    }
    if (this.#used < this.perMinute) {
      this.#used++;
      return true;
    }
    this.#refused++;
    return false;
  }

  /** True for the first refusal of a window: the log says it once a minute, not once a request. */
  get firstRefusal(): boolean {
    return this.#refused === 1;
  }
}

/** Longest `sid` or `sub` accepted from a logout token or a front-channel request, in UTF-8 bytes. */
export const MAX_IDENTIFIER_BYTES = 255;

export function identifierTooLong(value: string): boolean {
  // Cheap bound first: a string of n UTF-16 units is at most 3n UTF-8 bytes.
  if (value.length * 3 <= MAX_IDENTIFIER_BYTES) return false;
  return new TextEncoder().encode(value).byteLength > MAX_IDENTIFIER_BYTES;
}
