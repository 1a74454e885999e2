/** Checks shared by every area of the options: each pushes a message that quotes the option. */

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isLocalHost(url: URL): boolean {
  return LOCAL_HOSTS.has(url.hostname);
}

export function checkHttpsUrl(label: string, value: unknown, problems: string[]): void {
  try {
    const url = new URL(String(value));
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLocalHost(url))) throw new Error('scheme');
  } catch {
    problems.push(`${label} must be an absolute https URL`);
  }
}

export function checkBoolean(label: string, value: unknown, fallback: boolean, problems: string[]): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') problems.push(`${label} must be true or false`);
  return value === true;
}

/** A per-minute budget of writes a provider's logouts may cause (docs/security.md). */
export function checkBudget(label: string, value: unknown, fallback: number, problems: string[]): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    problems.push(`${label} must be a whole number, at least 1`);
    return fallback;
  }
  return value;
}

export function checkStringRecord(label: string, value: unknown, problems: string[]): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Object.values(value).some((v) => typeof v !== 'string')) {
    problems.push(`${label} must be an object of string values`);
  }
}

export function checkSeconds(name: string, value: unknown, fallback: number, problems: string[], min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    problems.push(`"${name}" must be a whole number of seconds, at least ${min}`);
    return fallback;
  }
  return value;
}

export function checkFunction(name: string, value: unknown, problems: string[]): void {
  if (value !== undefined && typeof value !== 'function') problems.push(`"${name}" must be a function`);
}

/**
 * The URL parser trims spaces and drops tabs and newlines; a URL option compared or sent byte
 * for byte must not rely on that.
 */
export function hasUnsafeUrlText(value: string): boolean {
  return /[^\x21-\x7e]|\\/.test(value);
}
