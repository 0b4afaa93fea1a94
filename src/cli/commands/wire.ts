/**
 * The fields of the API's JSON that the CLI reads, in Polytomic's names. `--json` prints bodies as
 * received, so these types only describe what the human renderings use.
 */
export interface Envelope<T> {
  data: T;
}

export interface Connection {
  id: string;
  name: string;
  type?: { id: string };
  status?: string;
  status_error?: string;
  configuration?: Record<string, unknown>;
  created_at?: string;
}

/** A table of a bulk sync (`/api/bulk/syncs/{id}/schemas`). */
export interface SyncTable {
  id: string;
  enabled?: boolean;
  output_name?: string;
  tracking_field?: string;
}

/** A bulk sync or a model sync: each has its own optional fields. */
export interface Sync {
  id: string;
  name: string;
  mode?: string;
  active?: boolean;
  schedule?: { frequency?: string };
  source_connection_id?: string;
  destination_connection_id?: string;
  target?: { connection_id?: string; object?: string };
}

export interface TableExecution {
  schema: string;
  status: string;
  status_message?: string;
  record_count?: number;
  /** The source's row estimate when the table started: what percentages and ETAs measure against. */
  estimated_record_count?: number;
  error_count?: number;
  started_at?: string;
  completed_at?: string;
  /** When the table's row was last written: while it runs, when `record_count` was counted. */
  updated_at?: string;
}

/** A bulk execution (record_count, schemas) or a model execution (counts, errors). */
export interface Execution {
  id: string;
  status: string;
  status_message?: string;
  type?: string;
  record_count?: number;
  error_count?: number;
  counts?: { total?: number; error?: number };
  errors?: string[];
  schemas?: TableExecution[];
  started_at?: string;
  completed_at?: string;
}

export interface LogEntry {
  cursor: string;
  timestamp: string;
  level: string;
  message: string;
  schema?: string;
}

export interface LogPage {
  entries: LogEntry[];
  next_cursor?: string;
}
