import type { z } from 'zod';
import { serverConfigSchema } from '../server-config.ts';

const configSchema = serverConfigSchema(3306);

export type MysqlConfig = z.infer<typeof configSchema>;

/** What the registry knows of MySQL/MariaDB connections without loading the driver. */
export const mysqlType = {
  id: 'mysql',
  name: 'MySQL / MariaDB',
  capabilities: { source: true, destination: true },
  configSchema,
  secretFields: ['password'],
};
