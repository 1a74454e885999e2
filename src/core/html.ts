/** Minimal server-rendered pages for the auth routes: escaped, no script, no external resource. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2328}
h1{font-size:1.4rem}p.detail{color:#59636e;font-size:.9rem}button,a.button{font:inherit;padding:.5rem 1rem;border-radius:6px;border:1px solid #d1d9e0;background:#f6f8fa;color:inherit;text-decoration:none;cursor:pointer;margin-right:.5rem}
button.primary{background:#1f6feb;color:#fff;border-color:#1f6feb}`;

export interface PageOptions {
  status: number;
  title: string;
  /** Trusted HTML: callers escape every value they interpolate. */
  body: string;
  headers?: HeadersInit;
  setCookies?: string[];
}

export function htmlPage({ status, title, body, headers, setCookies = [] }: PageOptions): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
  const response = new Response(html, {
    status,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
      'X-Content-Type-Options': 'nosniff',
      // Our own forms keep a real Origin (no-referrer would make it "null"); nothing leaves the origin.
      'Referrer-Policy': 'same-origin',
      ...headers,
    },
  });
  for (const cookie of setCookies) response.headers.append('Set-Cookie', cookie);
  return response;
}

export function redirect(location: string, status: 302 | 303, setCookies: string[] = []): Response {
  const response = new Response(null, {
    status,
    headers: { Location: location, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' },
  });
  for (const cookie of setCookies) response.headers.append('Set-Cookie', cookie);
  return response;
}

export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
  });
}

export function paragraph(text: string, className?: string): string {
  return `<p${className ? ` class="${className}"` : ''}>${escapeHtml(text)}</p>`;
}

export function link(href: string, text: string): string {
  return `<p><a class="button" href="${escapeHtml(href)}">${escapeHtml(text)}</a></p>`;
}
