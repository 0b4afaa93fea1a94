import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { duckdbLogicalType } from '../../src/connectors/duckdb/logical-types.ts';
import { mysqlLogicalType } from '../../src/connectors/mysql/logical-types.ts';
import { postgresLogicalType } from '../../src/connectors/postgres/logical-types.ts';
import { CopyTextParser, unescapeCopyText } from '../../src/connectors/postgres/reader.ts';
import { sqliteLogicalType } from '../../src/connectors/sqlite/logical-types.ts';
import { keysetAfter, pgTimestampText } from '../../src/connectors/values.ts';

describe('logical types', () => {
  it('postgresql', () => {
    const cases: Array<[string, string, string, unknown]> = [
      ['numeric', 'N', 'numeric(38,10)', { kind: 'decimal', precision: 38, scale: 10 }],
      ['numeric', 'N', 'numeric(12,0)', { kind: 'decimal', precision: 12, scale: 0 }],
      ['numeric', 'N', 'numeric', { kind: 'decimal' }],
      ['timestamptz', 'D', 'timestamp(3) with time zone', { kind: 'timestamptz' }],
      ['timestamp', 'D', 'timestamp without time zone', { kind: 'timestamp' }],
      ['jsonb', 'U', 'jsonb', { kind: 'json' }],
      ['json', 'U', 'json', { kind: 'json' }],
      ['bytea', 'U', 'bytea', { kind: 'bytes' }],
      ['int2', 'N', 'smallint', { kind: 'int16' }],
      ['int4', 'N', 'integer', { kind: 'int32' }],
      ['int8', 'N', 'bigint', { kind: 'int64' }],
      ['float4', 'N', 'real', { kind: 'float32' }],
      ['float8', 'N', 'double precision', { kind: 'float64' }],
      ['bool', 'B', 'boolean', { kind: 'boolean' }],
      ['uuid', 'U', 'uuid', { kind: 'uuid' }],
      ['date', 'D', 'date', { kind: 'date' }],
      ['time', 'D', 'time without time zone', { kind: 'time' }],
      ['interval', 'T', 'interval', { kind: 'interval' }],
      ['varchar', 'S', 'character varying(20)', { kind: 'text' }],
      ['text', 'S', 'text', { kind: 'text' }],
      ['citext', 'S', 'citext', { kind: 'text' }],
      ['mood', 'E', 'mood', { kind: 'text' }],
      ['_int4', 'A', 'integer[]', { kind: 'text' }],
      ['money', 'N', 'money', { kind: 'text' }],
      ['timetz', 'D', 'time with time zone', { kind: 'text' }],
    ];
    for (const [typname, category, formatted, expected] of cases)
      assert.deepEqual(postgresLogicalType(typname, category, formatted), expected, formatted);
  });

  it('mysql / mariadb', () => {
    const cases: Array<[string, unknown]> = [
      ['tinyint(1)', { kind: 'boolean' }],
      ['tinyint(4)', { kind: 'int16' }],
      ['tinyint(3) unsigned', { kind: 'int16' }],
      ['smallint(5) unsigned', { kind: 'int32' }],
      ['int(11)', { kind: 'int32' }],
      ['int', { kind: 'int32' }],
      ['int(10) unsigned', { kind: 'int64' }],
      ['bigint(20)', { kind: 'int64' }],
      ['bigint(20) unsigned', { kind: 'decimal', precision: 20, scale: 0 }],
      ['bigint unsigned zerofill', { kind: 'decimal', precision: 20, scale: 0 }],
      ['decimal(38,10)', { kind: 'decimal', precision: 38, scale: 10 }],
      ['decimal(10,0) unsigned', { kind: 'decimal', precision: 10, scale: 0 }],
      ['float', { kind: 'float32' }],
      ['double', { kind: 'float64' }],
      ['datetime(6)', { kind: 'timestamp' }],
      ['timestamp', { kind: 'timestamptz' }],
      ['date', { kind: 'date' }],
      ['time(3)', { kind: 'time' }],
      ['year(4)', { kind: 'int16' }],
      ['json', { kind: 'json' }],
      ['bit(1)', { kind: 'boolean' }],
      ['bit(8)', { kind: 'int64' }],
      ['varbinary(16)', { kind: 'bytes' }],
      ['binary(16)', { kind: 'bytes' }],
      ['longblob', { kind: 'bytes' }],
      ['geometry', { kind: 'bytes' }],
      ['varchar(255)', { kind: 'text' }],
      ['longtext', { kind: 'text' }],
      ["enum('a','b')", { kind: 'text' }],
      ["set('a','b')", { kind: 'text' }],
      ['uuid', { kind: 'uuid' }],
    ];
    for (const [type, expected] of cases) assert.deepEqual(mysqlLogicalType(type), expected, type);
  });

  it('sqlite (declared type, then affinity)', () => {
    const cases: Array<[string, unknown]> = [
      ['INTEGER', { kind: 'int64' }],
      ['BIGINT', { kind: 'int64' }],
      ['UNSIGNED BIG INT', { kind: 'int64' }],
      ['VARCHAR(20)', { kind: 'text' }],
      ['CLOB', { kind: 'text' }],
      ['TEXT', { kind: 'text' }],
      ['BLOB', { kind: 'bytes' }],
      ['', { kind: 'text' }],
      ['REAL', { kind: 'float64' }],
      ['DOUBLE PRECISION', { kind: 'float64' }],
      ['FLOAT', { kind: 'float64' }],
      ['NUMERIC', { kind: 'decimal' }],
      ['DECIMAL(10,5)', { kind: 'decimal', precision: 10, scale: 5 }],
      ['BOOLEAN', { kind: 'boolean' }],
      ['DATE', { kind: 'date' }],
      ['DATETIME', { kind: 'timestamp' }],
      ['TIMESTAMP', { kind: 'timestamp' }],
      ['JSON', { kind: 'json' }],
      ['MONEY', { kind: 'decimal' }],
    ];
    for (const [type, expected] of cases) assert.deepEqual(sqliteLogicalType(type), expected, type);
  });

  it('duckdb (also the files connector)', () => {
    const cases: Array<[string, unknown]> = [
      ['BOOLEAN', { kind: 'boolean' }],
      ['TINYINT', { kind: 'int16' }],
      ['SMALLINT', { kind: 'int16' }],
      ['INTEGER', { kind: 'int32' }],
      ['BIGINT', { kind: 'int64' }],
      ['UBIGINT', { kind: 'decimal', precision: 20, scale: 0 }],
      ['HUGEINT', { kind: 'decimal' }],
      ['FLOAT', { kind: 'float32' }],
      ['DOUBLE', { kind: 'float64' }],
      ['DECIMAL(38,10)', { kind: 'decimal', precision: 38, scale: 10 }],
      ['VARCHAR', { kind: 'text' }],
      ['UUID', { kind: 'uuid' }],
      ['DATE', { kind: 'date' }],
      ['TIME', { kind: 'time' }],
      ['TIMESTAMP', { kind: 'timestamp' }],
      ['TIMESTAMP_NS', { kind: 'timestamp' }],
      ['TIMESTAMP WITH TIME ZONE', { kind: 'timestamptz' }],
      ['INTERVAL', { kind: 'interval' }],
      ['JSON', { kind: 'json' }],
      ['BLOB', { kind: 'bytes' }],
      ['INTEGER[]', { kind: 'json' }],
      ['VARCHAR[3]', { kind: 'json' }],
      ['STRUCT(a INTEGER, b VARCHAR)', { kind: 'json' }],
      ['MAP(VARCHAR, INTEGER)', { kind: 'json' }],
      ["ENUM('a', 'b')", { kind: 'text' }],
    ];
    for (const [type, expected] of cases) assert.deepEqual(duckdbLogicalType(type), expected, type);
  });
});

describe('COPY text format', () => {
  it('unescapes fields', () => {
    assert.equal(unescapeCopyText('plain'), 'plain');
    assert.equal(unescapeCopyText('a\\tb\\nc\\rd\\\\e\\bf\\fg\\vh'), 'a\tb\nc\rd\\e\bf\fg\vh');
    assert.equal(unescapeCopyText('\\101\\x42\\7'), 'AB\x07');
    assert.equal(unescapeCopyText('\\\\N'), '\\N');
    assert.equal(unescapeCopyText('end\\'), 'end');
  });

  it('parses rows split across chunks anywhere, even inside a character', () => {
    const text = '1\t\\N\t\té😀\\t中\n2\tx\\\\y\t\\\\N\t\n';
    const expected = [
      ['1', null, '', 'é😀\t中'],
      ['2', 'x\\y', '\\N', ''],
    ];
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const parser = new CopyTextParser(4);
      parser.push(bytes.subarray(0, cut));
      parser.push(bytes.subarray(cut));
      parser.end();
      assert.deepEqual(parser.batches.flat(), expected, `cut at ${cut}`);
    }
    const partial = new CopyTextParser(4);
    partial.push(Buffer.from('1\t2'));
    assert.throws(() => partial.end(), /middle of a row/);
  });

  it('closes batches at 5,000 rows', () => {
    const parser = new CopyTextParser(1);
    parser.push(Buffer.from('x\n'.repeat(12_001)));
    parser.end();
    assert.deepEqual(
      parser.batches.map((b) => b.length),
      [5000, 5000, 2001],
    );
  });
});

describe('reader helpers', () => {
  it('spells keyset predicates without row values', () => {
    assert.equal(keysetAfter(['c'], ['1']), 'c > 1');
    assert.equal(keysetAfter(['c', 'k'], ['1', '2']), 'c >= 1 and (c > 1 or (c = 1 and k > 2))');
    assert.equal(
      keysetAfter(['c', 'k', 'j'], ['1', '2', '3']),
      'c >= 1 and (c > 1 or (c = 1 and (k > 2 or (k = 2 and j > 3))))',
    );
  });

  it('normalizes timestamp text', () => {
    assert.equal(pgTimestampText('2024-01-02 03:04:05.120000', '+00'), '2024-01-02 03:04:05.12+00');
    assert.equal(pgTimestampText('2024-01-02 03:04:05.000000', ''), '2024-01-02 03:04:05');
    assert.equal(pgTimestampText('2024-01-02T03:04:05.123456Z', 'keep'), '2024-01-02 03:04:05.123456+00');
    assert.equal(pgTimestampText('2024-01-02T03:04:05+02:00', 'keep'), '2024-01-02 03:04:05+02');
    assert.equal(pgTimestampText('infinity', '+00'), 'infinity');
  });
});
