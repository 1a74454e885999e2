import { fromUtf8 } from './encoding.js';

/** Form bodies we accept on our POST routes are small; anything larger is refused unread. */
export const MAX_FORM_BYTES = 16 * 1024;

/**
 * Reads an `application/x-www-form-urlencoded` body of at most `limit` bytes.
 * Null for another content type, a body too large, or a stream error.
 */
export async function readForm(request: Request, limit = MAX_FORM_BYTES): Promise<URLSearchParams | null> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return null;
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limit) return null;
  const text = await readText(request, limit);
  return text === null ? null : new URLSearchParams(text);
}

async function readText(request: Request, limit: number): Promise<string | null> {
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel();
        return null;
      }
      chunks.push(value);
    }
  } catch {
    return null;
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return fromUtf8(bytes);
}
