import { fromUtf8 } from './encoding.js';

/** Form bodies we accept on our POST routes are small; anything larger is refused unread. */
export const MAX_FORM_BYTES = 16 * 1024;

/**
 * Reads an `application/x-www-form-urlencoded` body of at most `limit` bytes: the form,
 * `'too-large'`, or null for another content type or a stream error.
 */
export async function readForm(request: Request, limit = MAX_FORM_BYTES): Promise<URLSearchParams | 'too-large' | null> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return null;
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limit) return 'too-large';
  const text = await readText(request, limit);
  return text !== null && typeof text === 'object' ? new URLSearchParams(text.text) : text;
}

async function readText(request: Request, limit: number): Promise<{ text: string } | 'too-large' | null> {
  if (!request.body) return { text: '' };
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
        return 'too-large';
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
  return { text: fromUtf8(bytes) };
}
