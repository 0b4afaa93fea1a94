// The dashboard's only way to Ferry: the Polytomic-compatible API under /api, with the key the user
// signed in with (kept in sessionStorage, so it ends with the browser tab).

const keyStorage = 'ferry.apiKey';

export const session = {
  key: (): string | null => sessionStorage.getItem(keyStorage),
  signIn: (key: string) => sessionStorage.setItem(keyStorage, key),
  signOut: () => sessionStorage.removeItem(keyStorage),
};

/** An API error as a sentence a person can act on, with the field at fault when the API names one. */
export class ApiError extends Error {
  readonly status: number;
  readonly field: string | undefined;
  constructor(status: number, message: string, field?: string) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

const statusHints: Record<number, string> = {
  401: 'Your API key was not accepted. Sign in again with a valid key.',
  403: 'This API key may not do that.',
  404: 'Not found: it may have been deleted, or this Ferry does not offer it.',
  429: 'Too many requests: wait a moment and try again.',
};

/** Reads both Polytomic envelopes: `{status, message, key, metadata}` and 401's `{status, code, error}`. */
function errorOf(status: number, body: unknown): ApiError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const metadata = (b.metadata ?? {}) as Record<string, unknown>;
  const field = typeof metadata.field === 'string' ? metadata.field : undefined;
  let message =
    (typeof b.message === 'string' && b.message) || (typeof b.error === 'string' && b.error) || undefined;
  if (status === 401) message = statusHints[401];
  // A route the server lacks altogether (an older Ferry), not a missing object.
  if (status === 404 && message?.startsWith('no route for')) {
    message = `This Ferry does not offer that yet (${message}).`;
  }
  if (!message) message = statusHints[status] ?? `The server answered ${status}.`;
  if (status >= 500 && typeof metadata.request_id === 'string') {
    message += ` (request id ${metadata.request_id})`;
  }
  return new ApiError(status, field && !message.includes(field) ? `${field}: ${message}` : message, field);
}

export async function api<T>(method: string, route: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`/api${route}`, {
      method,
      headers: {
        authorization: `Bearer ${session.key() ?? ''}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'Ferry cannot be reached. Check that the server is running.');
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const error = errorOf(response.status, parsed);
    if (response.status === 401) window.dispatchEvent(new Event('ferry:unauthorized'));
    throw error;
  }
  return parsed as T;
}

/** `{data}` of an envelope. */
export const get = async <T>(route: string): Promise<T> => (await api<{ data: T }>('GET', route)).data;
export const send = async <T>(method: string, route: string, body?: unknown): Promise<T> =>
  (await api<{ data: T }>(method, route, body)).data;

export const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : 'Something went wrong.';

// Wire shapes (Polytomic SDK 1.18.1 field names).

export interface ConnectionType {
  id: string;
  name: string;
  configurationSchema: JsonSchema;
}

export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  default?: unknown;
  enum?: unknown[];
  description?: string;
  minimum?: number;
  maximum?: number;
}

export interface Connection {
  id: string;
  name: string;
  type: { id: string; name: string };
  configuration: Record<string, unknown>;
  status?: string;
  status_error?: string;
  created_at?: string;
}

export interface SourceField {
  id: string;
  name: string;
  type?: string;
  remote_type?: string;
  is_primary_key?: boolean;
  nullable?: boolean;
}

export interface SourceSchema {
  id: string;
  name: string;
  namespace?: string;
  fields: SourceField[];
}

export interface Schedule {
  frequency?: string;
  minute?: string;
  hour?: string;
  day_of_week?: string;
  day_of_month?: string;
  month?: string;
  multi?: unknown;
}

export interface BulkSync {
  id: string;
  name: string;
  source_connection_id: string;
  destination_connection_id: string;
  mode: string;
  active: boolean;
  discover?: boolean;
  normalize_names?: string;
  concurrency_limit?: number;
  source_configuration?: Record<string, unknown>;
  destination_configuration?: Record<string, unknown>;
  schedule?: Schedule;
  created_at?: string;
  updated_at?: string;
}

export interface BulkSchema {
  id: string;
  enabled: boolean;
  output_name?: string;
  user_output_name?: string;
  partition_key?: string;
  tracking_field?: string;
  fields: { id: string; enabled?: boolean; output_name?: string }[];
}

export interface SchemaExecution {
  schema: string;
  output_name?: string;
  status: string;
  status_message?: string;
  record_count?: number;
  /** The source's row estimate when the table started (Ferry's addition): what progress measures against. */
  estimated_record_count?: number;
  error_count?: number;
  warning_count?: number;
  started_at?: string;
  completed_at?: string;
  updated_at?: string;
}

export interface BulkExecution {
  id: string;
  status: string;
  status_message?: string;
  type?: string;
  is_resync?: boolean;
  is_test?: boolean;
  is_partial?: boolean;
  record_count?: number;
  error_count?: number;
  warning_count?: number;
  attempts?: number;
  schemas?: SchemaExecution[];
  created_at?: string;
  started_at?: string;
  completed_at?: string;
}

export interface BulkStatusItem {
  sync_id: string;
  status?: string;
  nextExecutionTime?: string;
}

export interface SyncStatus<E> {
  current_execution?: E;
  last_execution?: E;
  next_execution_time?: string;
}

export interface ConsoleEntry {
  cursor: string;
  timestamp: string;
  level: string;
  message: string;
  schema?: string;
}

export interface RecordLogFile {
  type: string;
  schema?: string;
  filename: string;
  url: string;
  records?: number;
  bytes?: number;
}

export interface Job {
  job_id: string;
  type: string;
  /** created, running, done or failed */
  status: string;
  result?: { url?: string; filename?: string; bytes?: number };
  error?: string;
}

export interface ModelSyncField {
  target: string;
  source?: { field: string; model_id: string };
  override_value?: string;
  sync_mode?: string;
}

export interface ModelSync {
  id: string;
  name: string;
  active?: boolean;
  mode?: string;
  model_ids?: string[];
  fields?: ModelSyncField[];
  /** Target fields set to a fixed value rather than a model field. */
  override_fields?: ModelSyncField[];
  identity?: { source: { field: string; model_id: string }; target: string; function: string };
  filters?: unknown[];
  schedule?: Schedule;
  target?: {
    connection_id: string;
    object?: string;
    new_name?: string;
    configuration?: Record<string, unknown>;
  };
  created_at?: string;
  updated_at?: string;
}

export interface ModelExecution {
  id: string;
  status?: string;
  type?: string;
  counts?: {
    insert?: number;
    update?: number;
    delete?: number;
    total?: number;
    error?: number;
    warnings?: number;
  };
  errors?: string[];
  created_at?: string;
  started_at?: string;
  completed_at?: string;
}
