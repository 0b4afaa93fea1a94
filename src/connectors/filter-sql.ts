import type { RowFilter } from '../domain/filters.ts';

/** How one source database spells what a filter needs. */
export interface SqlDialect {
  ident(name: string): string;
  /** A string literal, safely quoted for this database. */
  literal(text: string): string;
  /** The column as text, so string functions work on any column type. */
  asText(expression: string): string;
}

// LIKE patterns escape their wildcards with `!`, which needs no escaping inside any dialect's literals.
const likeEscaped = (text: string) => text.replace(/[!%_]/g, (c) => `!${c}`);

/** The WHERE condition of a table's filters (all must hold), or undefined when there are none. */
export function filterCondition(
  filters: readonly RowFilter[] | undefined,
  dialect: SqlDialect,
): string | undefined {
  if (!filters || filters.length === 0) return undefined;
  return filters.map((filter) => `(${conditionOf(filter, dialect)})`).join(' and ');
}

function conditionOf(filter: RowFilter, d: SqlDialect): string {
  const column = d.ident(filter.field);
  const text = d.asText(column);
  const like = (pattern: string, negate = false) =>
    `${text} ${negate ? 'not like' : 'like'} ${d.literal(pattern)} escape '!'`;
  switch (filter.fn) {
    case 'StringOneOf':
    case 'StringNotOneOf':
      return `${text} ${filter.fn === 'StringNotOneOf' ? 'not in' : 'in'} (${filter.values.map(d.literal).join(', ')})`;
    case 'Between':
      return `${column} between ${d.literal(filter.from)} and ${d.literal(filter.to)}`;
    case 'IsNull':
      return `${column} is null`;
    case 'IsNotNull':
      return `${column} is not null`;
    case 'True':
      return `${column} = true`;
    case 'False':
      return `${column} = false`;
  }
  const value = filter.value ?? '';
  const literal = d.literal(value);
  switch (filter.fn) {
    case 'Equality':
      return `${column} = ${literal}`;
    case 'Inequality':
      // SQL's <> leaves NULLs out; "not equal to x" keeps them.
      return `${column} is null or ${column} <> ${literal}`;
    case 'GreaterThan':
      return `${column} > ${literal}`;
    case 'GreaterThanEqual':
    case 'OnOrAfter':
      return `${column} >= ${literal}`;
    case 'LessThan':
      return `${column} < ${literal}`;
    case 'LessThanEqual':
    case 'OnOrBefore':
      return `${column} <= ${literal}`;
    case 'StringContains':
      return like(`%${likeEscaped(value)}%`);
    case 'StringDoesNotContain':
      return like(`%${likeEscaped(value)}%`, true);
    case 'StringStartsWith':
      return like(`${likeEscaped(value)}%`);
    case 'StringDoesNotStartWith':
      return like(`${likeEscaped(value)}%`, true);
    case 'StringEndsWith':
      return like(`%${likeEscaped(value)}`);
    case 'StringDoesNotEndWith':
      return like(`%${likeEscaped(value)}`, true);
    case 'StringLike':
      return `${text} like ${literal}`;
    case 'StringNotLike':
      return `${text} not like ${literal}`;
    case 'StringMatchesTrimmed':
      return `trim(${text}) = ${d.literal(value.trim())}`;
  }
}
