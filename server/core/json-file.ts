// A small JSON settings file (models list, app settings) validated by a schema, written atomically;
// an unreadable file is backed up and reported, and the defaults are used.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { formatIssues } from '../../contract/index.js';
import { backUpCorruptFile, writeFileAtomic } from './atomic-file.js';
import type { StoreProblem } from './store.js';

export async function readJsonFile<S extends z.ZodType>(
  file: string,
  schema: S,
  defaults: z.output<S>,
  report: (problem: StoreProblem) => void,
): Promise<z.output<S>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return defaults;
    throw error;
  }
  let problem: string;
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
    problem = formatIssues(path.basename(file), parsed.error);
  } catch (error) {
    problem = `invalid JSON: ${(error as Error).message}`;
  }
  const backupPath = await backUpCorruptFile(file, path.join(path.dirname(file), 'backup'));
  report({ message: `${path.basename(file)} could not be read (${problem}); moved to ${backupPath}, using defaults`, file, backupPath });
  return defaults;
}

export async function writeJsonFile(file: string, value: unknown): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, JSON.stringify(value, null, 1));
}
