import { hash } from 'node:crypto';
import type { ModelFieldInfo, ModelSyncRow } from '../../store/schema.ts';

/** Filter and override functions Ferry evaluates (Polytomic `FilterFunction` names). */
export const filterFunctions: readonly string[] = [
  'Equality',
  'Inequality',
  'IsNull',
  'IsNotNull',
  'True',
  'False',
  'GreaterThan',
  'GreaterThanEqual',
  'LessThan',
  'LessThanEqual',
  'OnOrAfter',
  'OnOrBefore',
  'Between',
  'StringContains',
  'StringDoesNotContain',
  'StringStartsWith',
  'StringDoesNotStartWith',
  'StringEndsWith',
  'StringDoesNotEndWith',
  'StringOneOf',
  'StringNotOneOf',
  'StringMatchesTrimmed',
];

type Value = string | null;

/** One model row mapped onto the target: its identity value (null when the sync has none) and the target values. */
export interface PlannedRecord {
  key: string | null;
  values: Value[];
}

/** A planned record with the content hash of its values; a record without identity is identified by it. */
export interface MappedRecord {
  identity: string;
  values: Value[];
  hash: string;
  /** The record as a JSON object of the target columns (`recordJson`), once printed: printed once for a request and its log. */
  json?: string | undefined;
}

export type MapResult =
  | { kind: 'record'; record: PlannedRecord }
  | { kind: 'filtered' }
  | { kind: 'no_identity'; values: Value[] };

/** Where each target value comes from: a model field or a constant. */
export type ValueSource = { field: string } | { constant: string | null };

export interface SyncPlan {
  /** Target field names, in the order of `MappedRecord.values`. */
  columns: string[];
  /** The source of each target value, in `columns` order. */
  sources: ValueSource[];
  /** The model field holding the identity, or null when the sync has none. */
  identityField: string | null;
  /** The sync filters or overrides rows: a record is more than its model row's fields and constants. */
  transforms: boolean;
  /** Index of the identity's target field in `columns`, or -1 when the sync has no identity. */
  identityIndex: number;
  map(row: Value[]): MapResult;
}

/**
 * Compiles a sync's configuration into a row mapper: overrides replace matching source values,
 * filters drop rows, fields map source values or constants onto target fields. Without an identity
 * (append, snapshot) a record is identified by its content.
 */
export function compilePlan(sync: ModelSyncRow, fields: ModelFieldInfo[]): SyncPlan {
  const indexOf = new Map(fields.map((f, i) => [f.name, i]));
  const sourceIndex = (name: string) => {
    const index = indexOf.get(name);
    if (index === undefined) throw new Error(`the model no longer has the field "${name}"`);
    return index;
  };
  const mappings = sync.fields.map((field) => ({
    target: field.target,
    source: field.source ? sourceIndex(field.source.field) : -1,
    field: field.source?.field ?? '',
    constant: field.override_value ?? null,
  }));
  const identity = sync.identity;
  if (identity && !mappings.some((m) => m.target === identity.target)) {
    mappings.push({
      target: identity.target,
      source: sourceIndex(identity.source.field),
      field: identity.source.field,
      constant: null,
    });
  }
  const identitySource = identity ? sourceIndex(identity.source.field) : -1;
  const overrides = sync.overrides.map((o) => ({
    index: sourceIndex(o.field.field),
    test: predicate(o.function, o.value),
    value: o.override === null || o.override === undefined ? null : textOf(o.override),
  }));
  const filters = sync.filters.map((f) => ({
    index: sourceIndex(f.field.field),
    test: predicate(f.function, f.value),
  }));
  const any = sync.filterLogic === 'or';
  const columns = mappings.map((m) => m.target);

  return {
    columns,
    sources: mappings.map((m) => (m.source === -1 ? { constant: m.constant } : { field: m.field })),
    identityField: identity?.source.field ?? null,
    transforms: overrides.length > 0 || filters.length > 0,
    identityIndex: identity ? columns.indexOf(identity.target) : -1,
    map(row) {
      let source = row;
      for (const override of overrides) {
        if (override.test(source[override.index] ?? null)) {
          if (source === row) source = [...row];
          source[override.index] = override.value;
        }
      }
      if (filters.length > 0) {
        const pass = any
          ? filters.some((f) => f.test(source[f.index] ?? null))
          : filters.every((f) => f.test(source[f.index] ?? null));
        if (!pass) return { kind: 'filtered' };
      }
      const values = mappings.map((m) => (m.source === -1 ? m.constant : (source[m.source] ?? null)));
      if (identitySource === -1) return { kind: 'record', record: { key: null, values } };
      const key = source[identitySource] ?? null;
      if (key === null || key === '') return { kind: 'no_identity', values };
      return { kind: 'record', record: { key, values } };
    },
  };
}

export function hashed(record: PlannedRecord): MappedRecord {
  const hash = contentHash(record.values);
  return { identity: record.key ?? hash, values: record.values, hash };
}

/** A short digest of a record's target values: equal values, equal hash. */
export function contentHash(values: Value[]): string {
  return hash('md5', JSON.stringify(values), 'base64url');
}

/**
 * Prints records as JSON objects of `columns` (values in `columns` order), exactly as `JSON.stringify`
 * prints `Object.fromEntries(columns.map((c, j) => [c, values[j] ?? null]))` (same key order: integer
 * keys first; a repeated column takes its last value), without building an object per record.
 */
export function recordJson(columns: string[]): (values: Value[]) => string {
  const { prefixes, indexes } = recordKeys(columns);
  if (prefixes.length === 0) return () => '{}';
  return (values) => {
    let json = '';
    for (let i = 0; i < indexes.length; i++) {
      const value = values[indexes[i]!] ?? null;
      json += prefixes[i]! + (value === null ? 'null' : JSON.stringify(value));
    }
    return `${json}}`;
  };
}

/**
 * The keys of `recordJson`'s objects: each key's printed prefix (`{"id":`, `,"name":`) and the index of
 * the column whose value follows it.
 */
export function recordKeys(columns: string[]): { prefixes: string[]; indexes: number[] } {
  const template: Record<string, number> = Object.fromEntries(columns.map((column, j) => [column, j]));
  const keys = Object.keys(template);
  return {
    prefixes: keys.map((key, i) => `${i === 0 ? '{' : ','}${JSON.stringify(key)}:`),
    indexes: keys.map((key) => template[key]!),
  };
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 't' : 'f';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

const truthy = (v: string) => ['t', 'true', '1', 'yes', 'y'].includes(v.toLowerCase());

/** Orders two text values: as numbers when both are numeric, as instants when both are dates. */
function compare(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(x) && Number.isFinite(y)) return x - y;
  const s = Date.parse(a.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00'));
  const t = Date.parse(b.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00'));
  if (!Number.isNaN(s) && !Number.isNaN(t)) return s - t;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The test a filter (or override) function with its value applies to one text value. */
export function predicate(fn: string, operand: unknown): (value: Value) => boolean {
  const text = operand === undefined || operand === null ? '' : textOf(operand);
  const list = Array.isArray(operand) ? operand.map(textOf) : text.split(',').map((s) => s.trim());
  const present = (test: (v: string) => boolean) => (v: Value) => v !== null && test(v);
  switch (fn) {
    case 'Equality':
      return present((v) => v === text || compare(v, text) === 0);
    case 'Inequality':
      return (v) => v === null || (v !== text && compare(v, text) !== 0);
    case 'IsNull':
      return (v) => v === null;
    case 'IsNotNull':
      return (v) => v !== null;
    case 'True':
      return present(truthy);
    case 'False':
      return present((v) => !truthy(v));
    case 'GreaterThan':
      return present((v) => compare(v, text) > 0);
    case 'GreaterThanEqual':
    case 'OnOrAfter':
      return present((v) => compare(v, text) >= 0);
    case 'LessThan':
      return present((v) => compare(v, text) < 0);
    case 'LessThanEqual':
    case 'OnOrBefore':
      return present((v) => compare(v, text) <= 0);
    case 'Between':
      return present((v) => compare(v, list[0] ?? '') >= 0 && compare(v, list[1] ?? '') <= 0);
    case 'StringContains':
      return present((v) => v.includes(text));
    case 'StringDoesNotContain':
      return (v) => v === null || !v.includes(text);
    case 'StringStartsWith':
      return present((v) => v.startsWith(text));
    case 'StringDoesNotStartWith':
      return (v) => v === null || !v.startsWith(text);
    case 'StringEndsWith':
      return present((v) => v.endsWith(text));
    case 'StringDoesNotEndWith':
      return (v) => v === null || !v.endsWith(text);
    case 'StringOneOf':
      return present((v) => list.includes(v));
    case 'StringNotOneOf':
      return (v) => v === null || !list.includes(v);
    case 'StringMatchesTrimmed':
      return present((v) => v.trim() === text.trim());
    default:
      throw new Error(`unsupported filter function ${fn}`);
  }
}
