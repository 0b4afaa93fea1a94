import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** Request options of the tests' MCP calls: a loaded machine may answer after the SDK's default 60 s. */
export const patient = { timeout: 240_000 };

/** An MCP SDK client over Streamable HTTP, sending `key` as the bearer of every request. */
export async function connectHttp(url: string, key: string, headers: Record<string, string> = {}) {
  const client = new Client({ name: 'ferry-test', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${key}`, ...headers } },
    }),
    patient,
  );
  return client;
}

export interface ToolOutcome {
  isError: boolean;
  text: string;
  structured: any;
  /** `structuredContent.data` of a successful call. */
  data: any;
}

export async function call(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = await client.callTool({ name, arguments: args }, undefined, patient);
  const content = result.content as { type: string; text?: string }[];
  const structured = result.structuredContent as any;
  return {
    isError: result.isError === true,
    text: content.map((c) => c.text ?? '').join('\n'),
    structured,
    data: structured?.data,
  } satisfies ToolOutcome;
}

/** Calls a tool that must succeed and returns its `data`. */
export async function ok(client: Client, name: string, args: Record<string, unknown> = {}) {
  const outcome = await call(client, name, args);
  if (outcome.isError) throw new Error(`${name} failed: ${outcome.text}`);
  return outcome.data;
}
