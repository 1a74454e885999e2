/**
 * The live panel's log of logouts, fed by the library's hooks. Like the auth instance, it must
 * be one per process: the back-channel logout arrives in a route handler's bundle, the page and
 * the event stream render in others.
 */
import type { AuthOptions, LogoutReason, ProviderLogoutEvent, Session } from 'oidc-session';

/** One logout the app heard of, as the events panel shows it. */
export interface LogoutEntry {
  id: number;
  /** Epoch milliseconds. */
  at: number;
  kind: LogoutReason;
  label: string;
  /** `session`: one session of this app ended (onLogout). `notice`: the provider told us (onProviderLogout). */
  source: 'session' | 'notice';
  what: string;
}

export interface LogoutLog {
  readonly hooks: Required<Pick<AuthOptions, 'onLogout' | 'onProviderLogout'>>;
  /** Newest first. */
  entries(): LogoutEntry[];
  subscribe(listener: (entries: LogoutEntry[]) => void): () => void;
}

const LABELS: Record<LogoutReason, string> = {
  local: 'Local',
  'rp-initiated': 'RP-initiated',
  everywhere: 'Everywhere',
  'back-channel': 'Back-channel',
  'front-channel': 'Front-channel',
  expired: 'Expired',
  'refresh-failed': 'Refresh failed',
};

const LOG = Symbol.for('oidc-session.example-next.logout-log');

/** The process's log. It shows every user's logouts to every visitor: fine on a developer's machine, not in an app. */
export function logoutLog(): LogoutLog {
  const holder = globalThis as { [LOG]?: LogoutLog };
  holder[LOG] ??= createLogoutLog();
  return holder[LOG];
}

function createLogoutLog(limit = 20): LogoutLog {
  const entries: LogoutEntry[] = [];
  const listeners = new Set<(entries: LogoutEntry[]) => void>();
  let nextId = 1;
  const add = (kind: LogoutReason, source: LogoutEntry['source'], what: string) => {
    entries.unshift({ id: nextId++, at: Date.now(), kind, label: LABELS[kind], source, what });
    entries.length = Math.min(entries.length, limit);
    for (const listener of listeners) listener(entries.slice());
  };
  return {
    hooks: {
      onLogout: (session, reason) => add(reason, 'session', describeEndedSession(session, reason)),
      onProviderLogout: (event) => add(event.channel, 'notice', describeProviderLogout(event)),
    },
    entries: () => entries.slice(),
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}

export function displayName(session: Session): string {
  return typeof session.user.name === 'string' ? session.user.name : session.sub;
}

export function shortId(id: string): string {
  return id.length > 10 ? `${id.slice(0, 8)}…` : id;
}

function describeEndedSession(session: Session, reason: LogoutReason): string {
  const who = `${displayName(session)}'s session${session.sid ? ` (sid ${shortId(session.sid)})` : ''}`;
  switch (reason) {
    case 'local':
      return `${who} ended in this app only; the provider session lives on.`;
    case 'rp-initiated':
      return `${who} ended here, then the browser went to the provider to end its session too.`;
    case 'expired':
      return `${who} reached its idle or absolute lifetime.`;
    case 'everywhere':
      return `${who} ended: the user signed out everywhere from another device.`;
    case 'back-channel':
      return `${who} ended: a logout token from the provider named it.`;
    case 'front-channel':
      return `${who} ended: the provider's front-channel iframe named it.`;
    case 'refresh-failed':
      return `${who} ended: the provider refused to refresh its tokens.`;
  }
}

function describeProviderLogout(event: ProviderLogoutEvent): string {
  const how = event.channel === 'back-channel' ? 'Logout token' : 'Front-channel request';
  const target = [event.sid ? `sid ${shortId(event.sid)}` : '', event.sub ? `sub ${event.sub}` : ''].filter(Boolean).join(', ');
  const ended =
    event.ended === null
      ? 'Tombstone written; matching cookies end at their next request.'
      : `${event.ended} stored session${event.ended === 1 ? '' : 's'} ended.`;
  return `${how} from ${event.provider} for ${target || 'no session'}. ${ended}`;
}
