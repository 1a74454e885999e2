import * as oidc from 'openid-client';
import type { ResolvedProvider } from './types.js';

/** The provider endpoints a failed exchange can come from. */
export type ProviderEndpoint = 'discovery' | 'token' | 'userinfo' | 'revocation';

export interface ProviderErrorContext {
  provider: ResolvedProvider;
  /** The endpoint the call was meant for; the failed response's own URL wins when it has one. */
  endpoint: ProviderEndpoint;
  /** The discovered metadata, to name the endpoint by its URL. */
  metadata?: oidc.ServerMetadata;
}

/** What the provider said: its HTTP status and its OAuth `error` / `error_description`. */
interface ProviderAnswer {
  status?: number;
  error?: string;
  description?: string;
  /** The response was not an OAuth error at all (HTML error page, proxy error …): its content type. */
  contentType?: string;
}

const ENDPOINT_KEYS: Record<Exclude<ProviderEndpoint, 'discovery'>, keyof oidc.ServerMetadata> = {
  token: 'token_endpoint',
  userinfo: 'userinfo_endpoint',
  revocation: 'revocation_endpoint',
};
const CLIENT_AUTH_ERRORS = new Set(['invalid_client', 'unauthorized_client']);
const MAX_PROVIDER_TEXT = 300;
/** What RFC 6749 §2.3.1's form-encoding changes (all but letters and digits, as openid-client encodes). */
const ENCODED = /[^A-Za-z0-9]/;

/**
 * One log line for a failed exchange with the provider that keeps what the provider said: the
 * endpoint (by URL), the HTTP status, and its `error` and `error_description` (RFC 6749 §5.2,
 * or the `WWW-Authenticate` challenge of RFC 6750 §3). openid-client's own message
 * ("server responded with an error in the response body") loses all of that. Errors that did
 * not come from a provider response (ID token checks, timeouts) are described as they are.
 * The provider's text is quoted and cut short: it is untrusted input going into a log.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function describeProviderError(error: unknown, context: ProviderErrorContext): string {
  const answer = providerAnswer(error);
  if (answer === null) return plainDescription(error);
  const { endpoint, where } = locate(context, responseOf(error)?.url);
  const status = answer.status === undefined ? '' : ` HTTP ${answer.status}`;
  if (answer.contentType !== undefined) {
    return `${where} answered${status} (${quote(answer.contentType || 'no content type')}), not an OAuth response`;
  }
  const said = [
    `error=${answer.error === undefined ? '(none)' : quote(answer.error)}`,
    ...(answer.description ? [`error_description=${quote(answer.description)}`] : []),
  ];
  return `${where} answered${status} ${said.join(' ')}${clientAuthHint(context.provider, endpoint, answer)}`;
}

function providerAnswer(error: unknown): ProviderAnswer | null {
  if (error instanceof oidc.ResponseBodyError) {
    return { status: error.status, error: error.error, ...(error.error_description ? { description: error.error_description } : {}) };
  }
  if (error instanceof oidc.WWWAuthenticateChallengeError) {
    const parameters = error.cause.find((challenge) => challenge.parameters.error)?.parameters ?? error.cause[0]?.parameters ?? {};
    return {
      status: error.status,
      ...(parameters.error ? { error: parameters.error } : {}),
      ...(parameters.error_description ? { description: parameters.error_description } : {}),
    };
  }
  if (error instanceof oidc.AuthorizationResponseError) {
    return { error: error.error, ...(error.error_description ? { description: error.error_description } : {}) };
  }
  // Not an OAuth error body (an HTML error page, a proxy's 502): openid-client keeps the Response as cause.
  const response = responseOf(error);
  if (response) return { status: response.status, contentType: response.headers.get('content-type') ?? '' };
  return null;
}

function responseOf(error: unknown): Response | undefined {
  if (typeof Response === 'undefined' || typeof error !== 'object' || error === null) return undefined;
  const { response, cause } = error as { response?: unknown; cause?: unknown };
  if (response instanceof Response) return response;
  return cause instanceof Response ? cause : undefined;
}

/**
 * Which endpoint answered, as "token endpoint https://op.example/token": the failed response's URL
 * names it when the metadata knows that URL (a login's failure may come from userinfo), else the
 * endpoint the caller meant.
 */
function locate(context: ProviderErrorContext, responseUrl: string | undefined): { endpoint: ProviderEndpoint; where: string } {
  const metadata = context.metadata;
  const url = withoutQuery(responseUrl);
  if (url && metadata) {
    for (const [endpoint, key] of Object.entries(ENDPOINT_KEYS) as Array<[ProviderEndpoint, keyof oidc.ServerMetadata]>) {
      if (withoutQuery(metadata[key] as string | undefined) === url) return { endpoint, where: `${endpoint} endpoint ${url}` };
    }
  }
  const known =
    context.endpoint === 'discovery'
      ? `${context.provider.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
      : (metadata?.[ENDPOINT_KEYS[context.endpoint]] as string | undefined);
  const shown = url ?? withoutQuery(known);
  return {
    endpoint: context.endpoint,
    where: `${context.endpoint} endpoint${shown ? ` ${shown}` : ''} of provider "${context.provider.name}"`,
  };
}

/**
 * RFC 6749 §2.3.1 has client_secret_basic form-encode the client_id and secret before Base64, so
 * every character but letters and digits changes ("-" becomes "%2D"). Providers that compare
 * without decoding refuse such credentials; client_secret_post sends them as they are.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
 */
function clientAuthHint(provider: ResolvedProvider, endpoint: ProviderEndpoint, answer: ProviderAnswer): string {
  if (provider.tokenEndpointAuthMethod !== 'client_secret_basic' || (endpoint !== 'token' && endpoint !== 'revocation')) return '';
  const refused =
    ((answer.status === 401 || answer.status === 403) && (answer.error === undefined || CLIENT_AUTH_ERRORS.has(answer.error))) ||
    (answer.status === 400 && answer.error === 'invalid_client');
  if (!refused) return '';
  // The secret itself is never shown; the client_id is not a secret.
  const encoded = [
    ...(ENCODED.test(provider.clientId) ? [`the client_id ${quote(provider.clientId)}`] : []),
    ...(ENCODED.test(provider.clientSecret ?? '') ? ['the client secret'] : []),
  ];
  if (encoded.length === 0) return '';
  return (
    `; ${encoded.join(' and ')} ha${encoded.length > 1 ? 've' : 's'} characters other than letters and digits, which client_secret_basic form-encodes ` +
    '(RFC 6749 §2.3.1: "-" is sent as "%2D") and some providers compare without decoding: ' +
    `try tokenEndpointAuthMethod: 'client_secret_post' for provider "${provider.name}" (allowed for this client at the provider)`
  );
}

function withoutQuery(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return undefined;
  }
}

function quote(text: string): string {
  return JSON.stringify(text.length > MAX_PROVIDER_TEXT ? `${text.slice(0, MAX_PROVIDER_TEXT)}…` : text);
}

/** Errors that did not come from a provider response: code, message and the cause's message. */
function plainDescription(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${typeof code === 'string' ? `${code}: ` : ''}${error.message}${cause}`;
}
