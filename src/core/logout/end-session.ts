export interface EndSessionParams {
  idTokenHint?: string;
  clientId: string;
  postLogoutRedirectUri: string;
  state: string;
  logoutHint?: string;
  uiLocales?: string;
}

/**
 * The RP-initiated logout request URL: the provider's `end_session_endpoint` with any
 * query it already has kept, plus our parameters (ours win on a name clash).
 * `client_id` is always sent: it lets the provider check `post_logout_redirect_uri`
 * even when the ID token is missing or too old to be accepted as a hint.
 *
 * @see ../../../../shared/specs/rpinitiated.txt RP-Initiated Logout 1.0 §2 and §3
 */
export function buildEndSessionUrl(endSessionEndpoint: string, params: EndSessionParams): URL {
  const url = new URL(endSessionEndpoint);
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined && value !== '') url.searchParams.set(name, value);
  };
  set('id_token_hint', params.idTokenHint); // spec §2: RECOMMENDED
  set('client_id', params.clientId);
  set('post_logout_redirect_uri', params.postLogoutRedirectUri); // spec §3: must be registered
  set('state', params.state); // spec §2: returned to us unchanged
  set('logout_hint', params.logoutHint);
  set('ui_locales', params.uiLocales);
  return url;
}
