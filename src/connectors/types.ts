import type { z } from 'zod';
import type { LogicalType, TableReader, TableWriter } from '../engine/bulk/contracts.ts';

/** Field types of the Polytomic surface (`UtilFieldType`). */
export type FieldType =
  | 'unknown'
  | 'string'
  | 'number'
  | 'boolean'
  | 'datetime'
  | 'array'
  | 'object'
  | 'binary';

export interface FieldInfo {
  name: string;
  /** The type as the database names it (`timestamp with time zone`, `varchar(255)`, `BIGINT`). */
  remoteType: string;
  type: FieldType;
  nullable: boolean;
  isPrimaryKey: boolean;
  /** Portable type used to create destination columns (see src/engine/bulk/contracts.ts). */
  logicalType: LogicalType;
}

/** A table, view or file that a connection can read: a "schema" in Polytomic's words. */
export interface SchemaInfo {
  /** Stable id used in URLs: `public.users` (PostgreSQL), `users` (MySQL, SQLite, DuckDB main), `users.csv` (files). */
  id: string;
  name: string;
  /** Database schema or folder the object lives in, when the type has one. */
  namespace: string | null;
  fields: FieldInfo[];
  primaryKeys: string[];
}

/** JSON-safe row: numerics beyond 2^53 and decimals as strings, timestamps as ISO-8601 text, binary as base64. */
export type Row = Record<string, unknown>;

export interface QueryResult {
  fields: string[];
  rows: Row[];
}

/** An open handle on one configured connection. Callers must `close()` it. */
export interface Connector {
  /** Proves the configuration works (reachable, credentials accepted, database/file present). */
  test(): Promise<void>;
  listSchemas(): Promise<SchemaInfo[]>;
  /** Returns null when the schema does not exist. */
  getSchema(schemaId: string): Promise<SchemaInfo | null>;
  sampleRecords(schemaId: string, limit: number): Promise<Row[]>;
  /** Runs read-only SQL and returns at most `limit` rows. */
  query(sql: string, limit: number): Promise<QueryResult>;
  close(): Promise<void>;
}

export interface ConnectorType<Config extends Record<string, unknown> = Record<string, unknown>> {
  /** Type id on the wire: postgresql, mysql, sqlite, duckdb, files. */
  id: string;
  name: string;
  capabilities: { source: boolean; destination: boolean };
  /** Validates `configuration` of a connection of this type. */
  configSchema: z.ZodType<Config>;
  /** Configuration keys that are secrets: encrypted at rest, redacted on the way out. */
  secretFields: readonly string[];
  open(config: Config): Promise<Connector>;
  /** Bulk reads of whole tables (sources). */
  openReader?(config: Config): Promise<TableReader>;
  /** Bulk loads with staging, atomic swap/merge and cursor state (destinations). */
  openWriter?(config: Config): Promise<TableWriter>;
}
