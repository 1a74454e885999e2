/**
 * JSON between the Node test and the test Worker that keeps what JSON would lose (undefined,
 * NaN, ±Infinity), so the store inside workerd receives exactly the arguments the suite passed.
 * Imported by both sides: Web/ES only.
 */
export function encodeCall(payload: unknown): string {
  return JSON.stringify(payload, (_, value: unknown) =>
    value === undefined || (typeof value === 'number' && !Number.isFinite(value)) ? { $number: String(value) } : value,
  );
}

export function decodeCall(text: string): unknown {
  return JSON.parse(text, (_, value: unknown) => {
    const special = (value as { $number?: unknown } | null)?.$number;
    if (typeof special !== 'string') return value;
    return special === 'undefined' ? undefined : Number(special);
  });
}

/** What the test Worker answers to POST /call: the store's result, or the error it threw. */
export type CallAnswer = { result: unknown } | { error: { name: string; message: string; typeError: boolean } };
