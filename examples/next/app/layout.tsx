import type { ReactNode } from 'react';
import { auth, storeName } from '../lib/auth';
import './demo.css';

export const metadata = { title: 'oidc-session Next.js demo' };

export default async function RootLayout({ children }: { children: ReactNode }) {
  const session = await auth.getSession();
  const { config } = await auth.instance();
  return (
    <html lang="en">
      <body data-signed-in={String(session !== null)}>
        <header className="top">
          <a href="/" className="brand">
            oidc-session <span>Next.js demo</span>
          </a>
          <span className="muted">
            {config.mode} sessions · {storeName()} store
          </span>
        </header>
        {children}
      </body>
    </html>
  );
}
