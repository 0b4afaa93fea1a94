import { z } from 'zod';

const configSchema = z.object({
  path: z.string().trim().min(1),
});

export type FilesConfig = z.infer<typeof configSchema>;

/** What the registry knows of file connections without loading DuckDB, which reads and writes them. */
export const filesType = {
  id: 'files',
  name: 'Files (CSV, JSONL, Parquet)',
  capabilities: { source: true, destination: true },
  configSchema,
  secretFields: [] as string[],
};
