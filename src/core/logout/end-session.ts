export interface EndSessionParams {
  idTokenHint?: string;
  clientId: string;
  postLogoutRedirectUri: string;
  state?: string;
  logoutHint?: string;
  uiLocales?: string;
}

/**
 * The RP-initiated logout request URL: the provider's `end_session_endpoint` with any
 * query it already has kept, plus our parameters (ours win on a name clash).
 * `client_id` is always sent: it lets the provider check `post_logout_redirect_uri`
 * even when the ID token is missing or too old to be accepted as a hint.
 *
 * @see https://openid.net/specs/openid-connect-rpinitiated-1_0.html#RPLogout RP-Initiated Logout 1.0 §2 and §3
 */
export function buildEndSessionUrl(endSessionEndpoint: string, params: EndSessionParams): URL {
  return endSessionUrlWith(endSessionEndpoint, standardEndSessionParams(params));
}

/** The end-session URL with exactly these parameters (after presets and `logoutParams` applied). */
export function endSessionUrlWith(endSessionEndpoint: string, params: Record<string, string>): URL {
  const url = new URL(endSessionEndpoint);
  const ours = new URLSearchParams(params);
  // The endpoint's own query is kept byte for byte (re-encoding could change what the
  // provider sees, e.g. "flag" into "flag="); only pairs we set ourselves are replaced.
  const kept = url.search
    .slice(1)
    .split('&')
    .filter((pair) => pair !== '' && !ours.has(decodeName(pair)));
  url.search = [...kept, ours.toString()].filter(Boolean).join('&');
  return url;
}

/** The RP-Initiated Logout parameters, in spec order, empty ones left out. */
export function standardEndSessionParams(params: EndSessionParams): Record<string, string> {
  const out: Record<string, string> = {};
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined && value !== '') out[name] = value;
  };
  set('id_token_hint', params.idTokenHint); // spec §2: RECOMMENDED
  set('client_id', params.clientId);
  set('post_logout_redirect_uri', params.postLogoutRedirectUri); // spec §3: must be registered
  set('state', params.state); // spec §2: returned to us unchanged
  set('logout_hint', params.logoutHint);
  set('ui_locales', params.uiLocales);
  return out;
}

function decodeName(pair: string): string {
  const name = pair.split('=')[0]!.replaceAll('+', ' ');
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}
