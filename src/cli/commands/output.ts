/** Output of the API commands: aligned tables for people, the API's JSON as is for scripts. */

export type Column<T> = [header: string, value: (row: T) => unknown];

const cell = (value: unknown): string => {
  if (value === undefined || value === null || value === '') return '-';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
};

export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map(([, value]) => cell(value(row))));
  const widths = columns.map(([header], i) =>
    Math.max(header.length, ...cells.map((line) => line[i]!.length)),
  );
  const line = (values: string[]) =>
    values
      .map((value, i) => (i === values.length - 1 ? value : value.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map(([header]) => header.toUpperCase())), ...cells.map(line)].join('\n');
}

/** One object as `key: value` lines, in the order given. */
export function details<T>(row: T, fields: readonly Column<T>[]): string {
  const width = Math.max(...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => `${`${label}:`.padEnd(width + 1)} ${cell(value(row))}`).join('\n');
}

export const print = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

/** `--json`: the response body exactly as the API sent it (envelope included), one document. */
export const printJson = (body: unknown): void => print(JSON.stringify(body, null, 2));

/** Prints `body` as JSON with `--json`, else as the human rendering. */
export function show(json: boolean | undefined, body: unknown, human: () => string): void {
  if (json) printJson(body);
  else print(human());
}
