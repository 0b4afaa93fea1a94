import { unescapeCopyText } from '../../../connectors/postgres/reader.ts';
import { recordKeys } from '../plan.ts';

/** A field that JSON must escape, or that COPY escaped: it is unescaped and printed by `JSON.stringify`. */
const escaped = /["\\\x00-\x1f]/;

/**
 * A record's JSON read straight from its row of `COPY ... TO STDOUT` text, exactly as `recordJson`
 * prints its values: `\N` is null, and a field without escapes, quotes or control characters (most
 * of them) goes between quotes as it is, instead of being unescaped into a string of its own and
 * escaped again. The values are the fields from character `from` of the line (those before it are the
 * caller's), one per column.
 */
export function copyRecordJson(columns: string[]): (line: string, from: number) => string {
  const { prefixes, indexes } = recordKeys(columns);
  const width = columns.length;
  if (width === 0) return () => '{}';
  const starts = new Int32Array(width);
  const ends = new Int32Array(width);
  return (line, from) => {
    for (let j = 0; j < width; j++) {
      const tab = line.indexOf('\t', from);
      starts[j] = from;
      ends[j] = tab === -1 ? line.length : tab;
      from = ends[j]! + 1;
    }
    if (from !== line.length + 1 || starts[width - 1]! > line.length)
      throw new Error(`COPY row does not have the ${width} values of the record: ${line.slice(0, 200)}`);
    let json = '';
    for (let i = 0; i < prefixes.length; i++) {
      const j = indexes[i]!;
      const field = line.slice(starts[j], ends[j]);
      json +=
        prefixes[i] +
        (field === '\\N'
          ? 'null'
          : escaped.test(field)
            ? JSON.stringify(unescapeCopyText(field))
            : `"${field}"`);
    }
    return `${json}}`;
  };
}
