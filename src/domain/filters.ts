import { FerryError } from './errors.ts';

/**
 * Row filters of a bulk sync table (Polytomic's `BulkFilter`): which functions Ferry applies in the
 * source query, and the value each one takes. A filter is checked once, when the sync is saved, so
 * a run never meets a filter it cannot apply.
 */
const valueKinds = {
  Equality: 'scalar',
  Inequality: 'scalar',
  IsNull: 'none',
  IsNotNull: 'none',
  True: 'none',
  False: 'none',
  OnOrAfter: 'scalar',
  OnOrBefore: 'scalar',
  GreaterThan: 'scalar',
  GreaterThanEqual: 'scalar',
  LessThan: 'scalar',
  LessThanEqual: 'scalar',
  StringContains: 'scalar',
  StringStartsWith: 'scalar',
  StringEndsWith: 'scalar',
  StringDoesNotContain: 'scalar',
  StringDoesNotStartWith: 'scalar',
  StringDoesNotEndWith: 'scalar',
  StringLike: 'scalar',
  StringNotLike: 'scalar',
  StringMatchesTrimmed: 'scalar',
  StringOneOf: 'list',
  StringNotOneOf: 'list',
  Between: 'pair',
} as const;

export type FilterFunction = keyof typeof valueKinds;

/** The value a filter function takes: none, one, a list, or a [from, to] pair (undefined: no such function). */
export const filterValueKind = (fn: string): (typeof valueKinds)[FilterFunction] | undefined =>
  Object.hasOwn(valueKinds, fn) ? valueKinds[fn as FilterFunction] : undefined;
export const filterFunctions = Object.keys(valueKinds) as FilterFunction[];

/** A filter ready to apply: values are text (the source casts them to the column's type). */
export type RowFilter =
  | {
      field: string;
      fn: Exclude<FilterFunction, 'StringOneOf' | 'StringNotOneOf' | 'Between'>;
      value?: string;
    }
  | { field: string; fn: 'StringOneOf' | 'StringNotOneOf'; values: string[] }
  | { field: string; fn: 'Between'; from: string; to: string };

const scalarText = (value: unknown): string | undefined =>
  typeof value === 'string'
    ? value
    : typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : undefined;

/**
 * Checks a stored filter and turns it into the form readers apply. `at` is the request path of the
 * filter, for the error's field.
 */
export function parseFilter(
  filter: { field_id: string; function: string; value?: unknown },
  at: string,
): RowFilter {
  const kind = valueKinds[filter.function as FilterFunction];
  if (!kind) {
    throw new FerryError(
      'validation_failed',
      `${at}.function: "${filter.function}" is not supported; use one of ${filterFunctions.join(', ')}`,
      { field: `${at}.function` },
    );
  }
  const invalid = (expected: string) =>
    new FerryError('validation_failed', `${at}.value: ${filter.function} takes ${expected}`, {
      field: `${at}.value`,
    });
  const field = filter.field_id;
  switch (kind) {
    case 'none':
      return { field, fn: filter.function as 'IsNull' };
    case 'scalar': {
      const value = scalarText(filter.value);
      if (value === undefined) throw invalid('a string, number or boolean value');
      return { field, fn: filter.function as 'Equality', value };
    }
    case 'list': {
      const values = Array.isArray(filter.value) ? filter.value.map(scalarText) : [];
      if (values.length === 0 || values.some((v) => v === undefined))
        throw invalid('a non-empty array of values');
      return { field, fn: filter.function as 'StringOneOf', values: values as string[] };
    }
    case 'pair': {
      const pair = Array.isArray(filter.value) ? filter.value.map(scalarText) : [];
      const [from, to] = pair;
      if (pair.length !== 2 || from === undefined || to === undefined) throw invalid('an array [from, to]');
      return { field, fn: 'Between', from, to };
    }
  }
}
