import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { ApiRequest } from '../http/api-client.ts';

/** The hints a Naftiko capability gives a tool, plus whether it reaches systems outside Ferry. */
export interface ToolHints {
  readOnly: boolean;
  destructive: boolean;
  idempotent: boolean;
  /** True when the tool reads or writes the connected databases and APIs, not only Ferry's own records. */
  openWorld: boolean;
}

/** One MCP tool: its input and the API request it makes. Faces stay thin: the API does the work. */
export interface ToolSpec<Shape extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  hints: ToolHints;
  input: Shape;
  request(args: z.infer<z.ZodObject<Shape>>): ApiRequest;
}

/** Keeps each tool's `request` typed by its own input while the list holds tools of every shape. */
export function defineTool<Shape extends z.ZodRawShape>(spec: ToolSpec<Shape>): ToolSpec {
  return spec as unknown as ToolSpec;
}

export function annotationsOf(tool: ToolSpec): ToolAnnotations {
  return {
    title: tool.title,
    readOnlyHint: tool.hints.readOnly,
    destructiveHint: tool.hints.destructive,
    idempotentHint: tool.hints.idempotent,
    openWorldHint: tool.hints.openWorld,
  };
}

export const readOnly: ToolHints = { readOnly: true, destructive: false, idempotent: true, openWorld: false };
export const action: ToolHints = { readOnly: false, destructive: false, idempotent: false, openWorld: false };

/** A path segment from a caller's value, so that `../` or `?` in an id cannot reach another route. */
export const segment = (value: string) => encodeURIComponent(value);

export const uuid = (description: string) =>
  z
    .uuid({ error: (issue) => (issue.input === undefined ? 'required' : 'must be a UUID') })
    .describe(description);
export const pageToken = z
  .string()
  .min(1)
  .optional()
  .describe('Pagination cursor returned as pagination.next_page_token by the previous call. Omit at first.');
export const consoleLimit = z
  .number()
  .int()
  .min(1)
  .optional()
  .describe('Maximum number of entries to return, newest first. Values above 50 are capped to 50.');
export const consoleAfter = z
  .string()
  .min(1)
  .optional()
  .describe(
    'Return only entries newer than this cursor (the `cursor` of an entry already read), oldest first.',
  );

/** Every tool answers with the API's JSON envelope: `data`, `pagination` on lists, `error` on failure. */
export const envelopeOutput = {
  data: z.unknown().describe('The API response body (`data` of the Polytomic envelope); null when empty.'),
  error: z
    .object({
      status: z.number().int().describe('HTTP status the API answered.'),
      key: z.string().describe('Error key, e.g. not_found, validation_failed, unauthorized.'),
      message: z.string().describe('What went wrong, in words.'),
      field: z.string().optional().describe('The input field at fault, when one is.'),
    })
    .optional()
    .describe('Present when the tool failed (isError): the API error to act on.'),
  pagination: z
    .object({ next_page_token: z.string().optional() })
    .optional()
    .describe('Present on lists: pass next_page_token as page_token to read the next page.'),
};
