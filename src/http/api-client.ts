/**
 * The MCP tools and the Naftiko adapter are clients of the Polytomic-compatible API: in process
 * (the local Hono app, no network hop) or over HTTP to any Polytomic-compatible upstream. Either way
 * auth, tenancy, validation and envelopes are exactly those of `/api`.
 */
export type ApiFetch = (path: string, init: RequestInit) => Promise<Response>;

/** The in-process API: requests go straight to the app's router. */
export function localApi(app: {
  request(path: string, init: RequestInit): Response | Promise<Response>;
}): ApiFetch {
  return async (path, init) => app.request(path, init);
}

/** A Polytomic-compatible API at `baseUrl` (another Ferry, or Polytomic itself). */
export function upstreamApi(baseUrl: string): ApiFetch {
  const base = baseUrl.replace(/\/+$/, '');
  return (path, init) => fetch(`${base}${path}`, init);
}

/** What a caller brings to every request: its key and, optionally, the API version it speaks. */
export interface Credentials {
  authorization: string;
  version?: string;
}

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | readonly (string | number | boolean)[] | undefined>;
  body?: unknown;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

/** Builds `path?query`, repeating the key for arrays (`sync_id=a&sync_id=b`) as Polytomic expects. */
export function withQuery(path: string, query: ApiRequest['query']): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export function forwardedHeaders(credentials: Credentials): Record<string, string> {
  return {
    authorization: credentials.authorization,
    ...(credentials.version ? { 'x-polytomic-version': credentials.version } : {}),
  };
}

/** One API call with the caller's credentials; the body is parsed JSON, or text when it is not JSON. */
export async function callApi(
  api: ApiFetch,
  credentials: Credentials,
  request: ApiRequest,
): Promise<ApiResponse> {
  const hasBody = request.body !== undefined;
  const response = await api(withQuery(request.path, request.query), {
    method: request.method,
    headers: {
      ...forwardedHeaders(credentials),
      accept: 'application/json',
      ...(hasBody ? { 'content-type': 'application/json' } : {}),
    },
    body: hasBody ? JSON.stringify(request.body) : undefined,
  });
  const text = await response.text();
  let body: unknown = text || undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: response.status, body };
}
