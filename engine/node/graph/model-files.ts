// A model with external data (onnx-builder.ts toExternal) goes to disk for ONNX Runtime: the
// ModelProto and its data file in a fresh temp folder, the session created from the model's path (ORT
// resolves `location` next to it). The folder lives as long as the session (ORT may map the data
// file) and is removed on close, on failure, and at process exit if nobody closed it.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SerializedModel } from './onnx-builder.js';

/** Below Node's and the OS's per-call write limits (about 2 GB). */
const WRITE_SLICE = 2 ** 30;

export interface ModelFiles {
  dir: string;
  modelPath: string;
  /** Removes the folder (idempotent). */
  remove(): Promise<void>;
}

/** Writes `model.onnx` and its external data file into a new folder under the OS temp dir. */
export async function writeModelFiles(serialized: Required<SerializedModel>): Promise<ModelFiles> {
  const dir = path.join(os.tmpdir(), `bitlens-model-${randomUUID()}`);
  await mkdir(dir, { recursive: true });
  let removed = false;
  const removeSync = () => {
    if (removed) return;
    removed = true;
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', removeSync);
  const files: ModelFiles = {
    dir,
    modelPath: path.join(dir, 'model.onnx'),
    async remove() {
      process.removeListener('exit', removeSync);
      if (removed) return;
      removed = true;
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await writeFile(files.modelPath, serialized.model);
    const fh = await open(path.join(dir, serialized.external.location), 'w');
    try {
      for (const { offset, data } of serialized.external.chunks) {
        for (let at = 0; at < data.byteLength; ) {
          const { bytesWritten } = await fh.write(data, at, Math.min(WRITE_SLICE, data.byteLength - at), offset + at);
          at += bytesWritten;
        }
      }
    } finally {
      await fh.close();
    }
  } catch (e) {
    await files.remove();
    throw new Error(`could not write the model's external data to ${dir}: ${(e as Error).message}`);
  }
  return files;
}
