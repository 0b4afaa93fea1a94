import { duckdbType } from './duckdb/type.ts';
import { filesType } from './files/type.ts';
import { httpConnector } from './http/index.ts';
import { mysqlType } from './mysql/type.ts';
import { postgresConnector } from './postgres/index.ts';
import { sqliteConnector } from './sqlite/index.ts';
import type { ConnectorType } from './types.ts';

type Descriptor = Pick<ConnectorType, 'id' | 'name' | 'capabilities' | 'configSchema' | 'secretFields'>;

/**
 * A connector type whose module, and the driver it brings (DuckDB's native library, mysql2), loads with
 * its first connection: a server that never uses it does not hold it in memory. `bulk` says which
 * bulk roles the type has.
 */
function loadedOnUse(
  descriptor: Descriptor,
  bulk: { reader?: true; writer?: true },
  load: () => Promise<ConnectorType>,
): ConnectorType {
  return {
    ...descriptor,
    open: async (config) => (await load()).open(config),
    ...(bulk.reader && { openReader: async (config) => (await load()).openReader!(config) }),
    ...(bulk.writer && { openWriter: async (config) => (await load()).openWriter!(config) }),
  };
}

export const connectorTypes: ConnectorType[] = [
  postgresConnector,
  loadedOnUse(
    mysqlType,
    { reader: true },
    async () => (await import('./mysql/index.ts')).mysqlConnector as ConnectorType,
  ),
  sqliteConnector,
  loadedOnUse(
    duckdbType,
    { writer: true },
    async () => (await import('./duckdb/index.ts')).duckdbConnector as ConnectorType,
  ),
  loadedOnUse(
    filesType,
    { reader: true, writer: true },
    async () => (await import('./files/index.ts')).filesConnector as ConnectorType,
  ),
  httpConnector,
];

/** Other spellings clients use for the same type. */
const aliases: Record<string, string> = { mariadb: 'mysql', postgres: 'postgresql' };

export function getConnectorType(id: string): ConnectorType | undefined {
  const canonical = Object.hasOwn(aliases, id) ? aliases[id] : id;
  return connectorTypes.find((type) => type.id === canonical);
}
