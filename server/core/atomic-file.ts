// Crash-safe file writes: write a temp file next to the target, fsync it, rename it over the
// target, fsync the folder. A kill at any point leaves either the old or the new file complete;
// leftover temp files were never acknowledged and are removed on the next start.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export const TEMP_SUFFIX = '.tmp';

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
  const handle = await fs.open(temp, 'w', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
  await syncDir(dir);
}

/** Make the rename itself durable. Windows cannot open folders for fsync; NTFS journals renames. */
export async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Remove temp files a killed writer left behind in `dir`. */
export async function removeStaleTempFiles(dir: string): Promise<void> {
  for (const name of await fs.readdir(dir)) {
    if (name.startsWith('.') && name.endsWith(TEMP_SUFFIX)) await fs.rm(path.join(dir, name), { force: true });
  }
}

/** Move a file that cannot be read into `backupDir` (never delete user data); returns its new path. */
export async function backUpCorruptFile(file: string, backupDir: string): Promise<string> {
  await fs.mkdir(backupDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const target = path.join(backupDir, `${path.basename(file)}.${stamp}.corrupt`);
  await fs.rename(file, target);
  return target;
}
