import { z } from 'zod';

/** Configuration of a database server connection (PostgreSQL, MySQL/MariaDB): the Polytomic keys. */
export const serverConfigSchema = (defaultPort: number) =>
  z.object({
    hostname: z.string().trim().min(1),
    port: z.coerce.number().int().min(1).max(65535).default(defaultPort),
    database: z.string().min(1),
    username: z.string().min(1),
    password: z.string().optional(),
    ssl: z.boolean().optional(),
  });
