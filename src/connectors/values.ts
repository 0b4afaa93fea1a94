import type { FieldType, Row } from './types.ts';

/** Integers beyond ±2^53 cannot round-trip through a JSON number: they travel as text. */
export function safeInteger(value: bigint | number | string): number | string {
  const big = typeof value === 'bigint' ? value : BigInt(value);
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(big)
    : big.toString();
}

const TIMESTAMP_TEXT =
  /^(-?\d{4,}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?:(Z)|([+-]\d{2})(?::?(\d{2}))?(?::?(\d{2}))?)?$/;

/**
 * Rewrites a database's timestamp text (`2024-01-02 03:04:05.123456+00`) as ISO-8601
 * (`2024-01-02T03:04:05.123456Z`) without going through Date, so microseconds survive.
 * Text that is not a plain timestamp (`infinity`, BC dates) is returned unchanged.
 */
export function isoTimestamp(text: string): string {
  const m = TIMESTAMP_TEXT.exec(text);
  if (!m) return text;
  const [, date, time, zulu, hours, minutes = '00', seconds] = m;
  if (zulu) return `${date}T${time}Z`;
  if (hours === undefined) return `${date}T${time}`;
  if (Number(hours) === 0 && minutes === '00' && !seconds) return `${date}T${time}Z`;
  return `${date}T${time}${hours}:${minutes}${seconds ? `:${seconds}` : ''}`;
}

/** Converts one driver value to its JSON-safe form (see `Row`). */
export function toJsonSafe(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'bigint':
      return safeInteger(value);
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'string':
    case 'boolean':
      return value;
    case 'object':
      if (value instanceof Uint8Array)
        return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
      if (Array.isArray(value)) return value.map(toJsonSafe);
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonSafe(v)]));
    default:
      return String(value);
  }
}

export function toJsonSafeRow(row: Record<string, unknown>): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) out[key] = toJsonSafe(value);
  return out;
}

/**
 * Maps a SQL type name as MySQL, SQLite or DuckDB spell it (`varchar(255)`, `tinyint(1)`,
 * `TIMESTAMP WITH TIME ZONE`, `INTEGER[]`, `STRUCT(a INTEGER)`) to a Polytomic field type.
 */
export function fieldTypeOf(remoteType: string): FieldType {
  const raw = remoteType.trim().toLowerCase();
  if (raw === '') return 'unknown';
  if (/^tinyint\(1\)/.test(raw)) return 'boolean';
  if (/\[\d*\]$/.test(raw) || /^(array|list)\b/.test(raw)) return 'array';
  const t = raw.replace(/\(.*\)/g, '').trim();
  if (/^(json|jsonb|struct|map|union|variant|object)\b/.test(t)) return 'object';
  if (/^(bool|boolean|logical)$/.test(t)) return 'boolean';
  if (/^(timestamp|timestamptz|datetime|smalldatetime|date)(_\w+)?\b/.test(t)) return 'datetime';
  if (/^(blob|tinyblob|mediumblob|longblob|bytea|binary|varbinary|bytes|geometry)\b/.test(t)) return 'binary';
  if (
    /^(u?(tiny|small|medium|big|huge)?int(eger)?\d*|unsigned|signed|int\d+|serial|bigserial|decimal|dec|numeric|number|real|float\d*|double|money|fixed|year|bit|varint|bignum)\b/.test(
      t,
    )
  )
    return 'number';
  // SQLite's affinity rule: any declared type containing INT is an integer.
  if (t.includes('int') && !/^(interval|point)/.test(t)) return 'number';
  return 'string';
}

/** Quotes an identifier the ANSI way (PostgreSQL, SQLite, DuckDB). */
export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** Quotes a string literal the ANSI way. */
export const quoteLiteral = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** A row limit as a non-negative integer. */
export const rowLimit = (limit: number): number =>
  Number.isFinite(limit) ? Math.max(0, Math.trunc(limit)) : 0;

/** Strips trailing semicolons and whitespace so the SQL can be wrapped as a subquery. */
export const stripTrailingSemicolons = (sql: string): string => sql.trim().replace(/[;\s]+$/, '');

/** Bulk reads (see src/engine/bulk/contracts.ts): a batch closes at this many rows or bytes, whichever first. */
export const BATCH_ROWS = 5_000;
export const BATCH_BYTES = 4 * 1024 * 1024;

/** The reason an aborted read throws: the signal's reason (an AbortError DOMException by default). */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/**
 * Keyset predicate "(c0, c1, ...) > (v0, v1, ...)" spelled without row values, for databases that lack
 * them or do not use an index for them: `c0 >= v0 and (c0 > v0 or (c0 = v0 and (c1 > v1 or ...)))`.
 * `columns` and `values` are SQL expressions, already quoted.
 */
export function keysetAfter(columns: readonly string[], values: readonly string[]): string {
  const chain = (i: number): string => {
    const greater = `${columns[i]} > ${values[i]}`;
    return i === columns.length - 1
      ? greater
      : `(${greater} or (${columns[i]} = ${values[i]} and ${chain(i + 1)}))`;
  };
  if (columns.length === 0) return 'true';
  return columns.length === 1 ? chain(0) : `${columns[0]} >= ${values[0]} and ${chain(0)}`;
}

/** `2024-01-02T03:04:05.120000Z` or `2024-01-02 03:04:05.12` → PostgreSQL text: space, trailing fraction zeros trimmed. */
export function pgTimestampText(text: string, zone: '+00' | '' | 'keep'): string {
  const m = /^(-?\d{4,}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(
    text,
  );
  if (!m) return text;
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  const base = `${m[1]} ${m[2]}${fraction ? `.${fraction}` : ''}`;
  if (zone === 'keep') return m[4] ? `${base}${m[4] === 'Z' ? '+00' : m[4].replace(/:?00$/, '')}` : base;
  return `${base}${zone}`;
}
