// App settings in <userData>/settings.json (atomic writes; an unreadable file is backed up and
// reported, and the defaults are used).
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { readJsonFile, writeJsonFile } from '../server/core/json-file.js';
import type { StoreProblem } from '../server/core/store.js';

export const SettingsSchema = z.strictObject({
  window: z
    .strictObject({ width: z.int().min(400), height: z.int().min(300), x: z.int().optional(), y: z.int().optional(), maximized: z.boolean() })
    .optional(),
  /** The OpenAI-compatible API: off by default; the token is generated on first enable. */
  api: z.strictObject({ enabled: z.boolean(), port: z.int().min(1024).max(65535), token: z.string().min(16) }),
});
export type Settings = z.infer<typeof SettingsSchema>;

export function defaultSettings(): Settings {
  return { api: { enabled: false, port: 5179, token: randomBytes(24).toString('base64url') } };
}

export class SettingsFile {
  private constructor(
    private readonly file: string,
    private value: Settings,
  ) {}

  static async open(userDataDir: string, report: (p: StoreProblem) => void): Promise<SettingsFile> {
    const file = path.join(userDataDir, 'settings.json');
    return new SettingsFile(file, await readJsonFile(file, SettingsSchema, defaultSettings(), report));
  }

  get(): Settings {
    return structuredClone(this.value);
  }

  async update(patch: Partial<Settings>): Promise<Settings> {
    const next = SettingsSchema.parse({ ...this.value, ...patch });
    await writeJsonFile(this.file, next);
    this.value = next;
    return this.get();
  }
}
