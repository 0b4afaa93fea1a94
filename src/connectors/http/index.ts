import { z } from 'zod';
import { FerryError } from '../../domain/errors.ts';
import { parseConfig } from '../errors.ts';
import type { Connector, ConnectorType } from '../types.ts';

/**
 * What `fetch` can send in a header, checked when the connection is saved (a run would fail every
 * request): a token as name (RFC 9110), a value on one line of Latin-1 characters.
 */
const headerName = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const headerValue = z.string().regex(/^[^\r\n\0\u0100-\uffff]*$/, 'must be one line of Latin-1 characters');

const configSchema = z.object({
  /** Where record batches are POSTed as JSON. */
  url: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }),
  /** Records per request. */
  batch_size: z.coerce.number().int().min(1).max(10_000).default(500),
  /** Extra request headers (not secret). */
  headers: z
    .record(z.string(), headerValue)
    .default({})
    .superRefine((headers, ctx) => {
      for (const name of Object.keys(headers)) {
        if (!headerName.test(name)) {
          ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is not a header name` });
        }
      }
    }),
  /** `Authorization` header value, stored encrypted. */
  auth_header: headerValue.optional(),
});

export type HttpConfig = z.infer<typeof configSchema>;

/** An HTTP API that receives records (a model sync target); it has nothing to read. */
class HttpConnector implements Connector {
  readonly #config: HttpConfig;

  constructor(config: HttpConfig) {
    this.#config = config;
  }

  /** The endpoint must answer; any HTTP status proves it is there (it may only accept POSTs). */
  async test(): Promise<void> {
    try {
      await fetch(this.#config.url, { method: 'HEAD', signal: AbortSignal.timeout(5_000) });
    } catch (error) {
      throw new FerryError(
        'connection_failed',
        `${this.#config.url} did not answer: ${(error as Error).message}`,
        {
          field: 'configuration.url',
        },
      );
    }
  }

  async listSchemas() {
    return [];
  }

  async getSchema() {
    return null;
  }

  async sampleRecords(): Promise<never> {
    throw new FerryError('validation_failed', 'an HTTP target has no records to read');
  }

  async query(): Promise<never> {
    throw new FerryError('validation_failed', 'an HTTP target cannot run queries');
  }

  async close(): Promise<void> {}
}

export const httpConnector: ConnectorType<HttpConfig> = {
  id: 'http',
  name: 'HTTP API',
  capabilities: { source: false, destination: true },
  configSchema,
  secretFields: ['auth_header'],
  async open(config) {
    return new HttpConnector(parseConfig(configSchema, config));
  },
};
