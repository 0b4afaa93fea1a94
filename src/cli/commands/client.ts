import { Command, Option } from 'commander';
import { type ApiRequest, callApi, upstreamApi } from '../../http/api-client.ts';

/**
 * The API commands (`connections`, `syncs`, `run`, ...) are clients of the Polytomic-compatible
 * `/api` of a running Ferry, exactly as users' scripts are: same auth, same envelopes, same errors.
 */
export interface ClientOptions {
  url: string;
  json?: boolean;
}

export const defaultUrl = 'http://localhost:8080';

/** An error envelope from the API: `{status, message, key, metadata: {field}}` (401: `{error}`). */
export class ApiError extends Error {
  readonly status: number;
  readonly field: string | undefined;

  constructor(status: number, body: unknown) {
    const envelope = (typeof body === 'object' && body !== null ? body : {}) as {
      message?: unknown;
      error?: unknown;
      metadata?: { field?: unknown };
    };
    const text = envelope.message ?? envelope.error ?? (typeof body === 'string' && body ? body : undefined);
    super(typeof text === 'string' ? text : `HTTP ${status}`);
    this.status = status;
    this.field = typeof envelope.metadata?.field === 'string' ? envelope.metadata.field : undefined;
  }

  /** What the CLI prints: the message, the field at fault, and how to fix a missing key. */
  describe(): string {
    const field = this.field ? ` (field: ${this.field})` : '';
    const hint =
      this.status === 401 ? '\nSet FERRY_API_KEY to a key of this server (`ferry keys create`).' : '';
    return `${this.message}${field} [HTTP ${this.status}]${hint}`;
  }
}

export interface FerryClient {
  /** Calls the API and returns the parsed body; non-2xx answers throw an ApiError. */
  call<T = unknown>(request: ApiRequest): Promise<T>;
  readonly url: string;
}

export function ferryClient(url: string, apiKey = process.env.FERRY_API_KEY): FerryClient {
  const api = upstreamApi(url);
  return {
    url,
    async call<T>(request: ApiRequest): Promise<T> {
      let response: Awaited<ReturnType<typeof callApi>>;
      try {
        response = await callApi(api, { authorization: apiKey ? `Bearer ${apiKey}` : '' }, request);
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause?.code;
        throw new Error(
          `cannot reach Ferry at ${url}${cause ? ` (${cause})` : ''}; is \`ferry serve\` running?`,
        );
      }
      if (response.status >= 400) throw new ApiError(response.status, response.body);
      return response.body as T;
    },
  };
}

/** `--url` and `--json`, which every API command takes. */
export function apiCommand(name: string): Command {
  return new Command(name)
    .addOption(new Option('--url <url>', 'Ferry server to talk to').env('FERRY_URL').default(defaultUrl))
    .option('--json', "print the API's JSON response as is");
}

export const clientOf = (options: ClientOptions): FerryClient => ferryClient(options.url);
