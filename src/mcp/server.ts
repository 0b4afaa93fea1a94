import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { type ApiFetch, type ApiResponse, type Credentials, callApi } from '../http/api-client.ts';
import { annotationsOf, envelopeOutput, type ToolSpec } from './tool.ts';
import { bulkSyncExecutionTools } from './tools/bulk-sync-executions.ts';
import { modelSyncTools } from './tools/model-syncs.ts';
import { operationTools } from './tools/operations.ts';
import { ferryVersion } from './version.ts';

/** Every tool Ferry serves: those of the seed capabilities first, then the ones that close the loop. */
export const allTools: ToolSpec[] = [...bulkSyncExecutionTools, ...modelSyncTools, ...operationTools];

export interface McpSession {
  api: ApiFetch;
  credentials: Credentials;
  /** Where relative links of the API (`/api/jobs/...`, signed downloads) resolve; left relative when unset. */
  baseUrl?: string;
}

const instructions = `Ferry moves data between databases and files with bulk syncs (many tables, source to destination)
and model syncs (a SQL model to a target). Find syncs with list-bulk-syncs or list-syncs, start one with
start-bulk-sync or start-sync, poll get-bulk-sync-execution until its status is terminal (completed, failed,
canceled, errors, interrupted), read get-bulk-execution-console-logs, and export logs with export-sync-logs
followed by get-job. Errors name the field at fault.`;

/** An MCP server whose tools act with one caller's credentials; one per session or stateless request. */
export function createMcpServer(session: McpSession): McpServer {
  const server = new McpServer({ name: 'ferry', title: 'Ferry', version: ferryVersion }, { instructions });
  for (const tool of allTools) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: z.strictObject(tool.input),
        outputSchema: envelopeOutput,
        annotations: annotationsOf(tool),
      },
      async (args: Record<string, unknown>) => runTool(session, tool, args),
    );
  }
  return server;
}

async function runTool(session: McpSession, tool: ToolSpec, args: Record<string, unknown>) {
  let response: ApiResponse;
  try {
    response = await callApi(session.api, session.credentials, tool.request(args as never));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return toolError(`the API could not be reached: ${reason}; retry later`);
  }
  if (response.status >= 400) return apiError(response);
  const body = absolutize(response.body ?? {}, session.baseUrl) as Record<string, unknown>;
  const structured = { data: body.data ?? null, ...(body.pagination ? { pagination: body.pagination } : {}) };
  return {
    content: [{ type: 'text', text: JSON.stringify(structured) }],
    structuredContent: structured,
  } satisfies CallToolResult;
}

/** A failed call as a tool error an agent can act on: the status, the error key and the field at fault. */
function apiError(response: ApiResponse): CallToolResult {
  const body = (typeof response.body === 'object' && response.body !== null ? response.body : {}) as {
    message?: string;
    error?: string;
    key?: string;
    metadata?: { field?: string };
  };
  const message = body.message ?? body.error ?? (typeof response.body === 'string' ? response.body : '');
  const key = body.key ?? statusWords[response.status] ?? 'error';
  const field = body.metadata?.field;
  const error = { status: response.status, key, message, ...(field ? { field } : {}) };
  return {
    ...toolError(
      `${response.status} ${key}: ${message || 'the API refused the call'}${field ? ` (field: ${field})` : ''}`,
    ),
    structuredContent: { data: null, error },
  };
}

const statusWords: Record<number, string> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  429: 'rate_limited',
};

const toolError = (text: string): CallToolResult => ({ content: [{ type: 'text', text }], isError: true });

/** Relative API links become absolute so that an agent can follow them outside MCP. */
function absolutize(value: unknown, baseUrl: string | undefined): unknown {
  if (!baseUrl) return value;
  if (typeof value === 'string') return value.startsWith('/api/') ? `${baseUrl}${value}` : value;
  if (Array.isArray(value)) return value.map((item) => absolutize(item, baseUrl));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, absolutize(v, baseUrl)]));
  }
  return value;
}
