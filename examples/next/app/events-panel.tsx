'use client';

import { useEffect, useState } from 'react';
import type { LogoutEntry } from '../lib/events';

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/**
 * The live list of logouts, from the server-sent events of /events. When news arrives on a
 * signed-in page it asks /api/me, and says so when this session has ended.
 */
export function EventsPanel({ initial, signedIn }: { initial: LogoutEntry[]; signedIn: boolean }) {
  const [entries, setEntries] = useState(initial);
  useEffect(() => {
    let seen = -1;
    const stream = new EventSource('/events');
    stream.onmessage = async (message) => {
      const next = JSON.parse(message.data) as LogoutEntry[];
      setEntries(next);
      const latest = next[0]?.id ?? 0;
      const news = seen !== -1 && latest > seen;
      seen = Math.max(seen, latest);
      if (news && signedIn) {
        const response = await fetch('/api/me', { headers: { accept: 'application/json' } });
        if (response.status === 401) document.getElementById('session-ended')?.removeAttribute('hidden');
      }
    };
    return () => stream.close();
  }, [signedIn]);

  return (
    <aside className="card events" aria-labelledby="events-title">
      <h2 id="events-title">
        Logout events{' '}
        <span className="live" title="Updated live">
          live
        </span>
      </h2>
      <p className="muted">
        What this app heard, newest first (times in UTC): its own sign-outs and the provider's back- and front-channel calls.
      </p>
      <ol id="logout-events">
        {entries.map((entry) => (
          <li key={entry.id} className={`event kind-${entry.kind}`}>
            <span className="badge">{entry.label}</span>{' '}
            <span className="source">{entry.source === 'notice' ? 'provider notice' : 'session ended'}</span>{' '}
            <time dateTime={new Date(entry.at).toISOString()}>{clock(entry.at)}</time>
            <p>{entry.what}</p>
          </li>
        ))}
      </ol>
      <p className="muted empty" id="no-events" hidden={entries.length > 0}>
        No logouts yet.
      </p>
    </aside>
  );
}
