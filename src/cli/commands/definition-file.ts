import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * Reads the body of a `create -f` from a YAML or JSON file (YAML is a superset of JSON, so one parser
 * serves both); the object is sent to the API as is, so the file has the API's own field names.
 */
export function readDefinition(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new Error(`${file} is neither valid YAML nor JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${file} must hold one object (the request body)`);
  }
  return value as Record<string, unknown>;
}
