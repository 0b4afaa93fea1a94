import { z } from 'zod';

const configSchema = z.object({
  path: z.string().trim().min(1),
});

export type DuckdbConfig = z.infer<typeof configSchema>;

/** What the registry knows of DuckDB connections without loading DuckDB's native library. */
export const duckdbType = {
  id: 'duckdb',
  name: 'DuckDB',
  capabilities: { source: true, destination: true },
  configSchema,
  secretFields: [] as string[],
};
