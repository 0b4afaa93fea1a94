import { duckdbConnector } from './duckdb/index.ts';
import { filesConnector } from './files/index.ts';
import { httpConnector } from './http/index.ts';
import { mysqlConnector } from './mysql/index.ts';
import { postgresConnector } from './postgres/index.ts';
import { sqliteConnector } from './sqlite/index.ts';
import type { ConnectorType } from './types.ts';

export const connectorTypes: ConnectorType[] = [
  postgresConnector,
  mysqlConnector,
  sqliteConnector,
  duckdbConnector,
  filesConnector,
  httpConnector,
];

/** Other spellings clients use for the same type. */
const aliases: Record<string, string> = { mariadb: 'mysql', postgres: 'postgresql' };

export function getConnectorType(id: string): ConnectorType | undefined {
  const canonical = Object.hasOwn(aliases, id) ? aliases[id] : id;
  return connectorTypes.find((type) => type.id === canonical);
}
