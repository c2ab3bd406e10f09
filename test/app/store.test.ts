import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, promises as fs, rmSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConversationStore, type StoreProblem } from '../../server/core/store.js';
import { DEFAULT_SAMPLING, type Conversation } from '../../contract/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bitlens-store-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function conversation(id: string, text = 'hello'): Conversation {
  const now = new Date().toISOString();
  return {
    id,
    title: `t-${id}`,
    createdAt: now,
    updatedAt: now,
    systemPrompt: 'be brief',
    sampling: DEFAULT_SAMPLING,
    messages: [{ id: 'm1', role: 'user', content: text, createdAt: now }],
  };
}

describe('conversation store', () => {
  it('saves, reloads, lists and deletes', async () => {
    const dir = tempDir();
    const problems: StoreProblem[] = [];
    const store = await ConversationStore.open(dir, (p) => problems.push(p));
    await store.save(conversation('one'));
    await store.save(conversation('two', 'second'));
    await store.save({ ...conversation('one', 'edited'), updatedAt: '2099-01-01T00:00:00.000Z' });
    const reopened = await ConversationStore.open(dir, (p) => problems.push(p));
    expect(reopened.get('one')!.messages[0].content).toBe('edited');
    expect(reopened.list().map((c) => c.id)).toEqual(['one', 'two']);
    expect(await reopened.delete('two')).toBe(true);
    expect(await reopened.delete('two')).toBe(false);
    expect((await ConversationStore.open(dir, () => {})).list().map((c) => c.id)).toEqual(['one']);
    expect(problems).toEqual([]);
    // No temp files are left behind.
    expect(readdirSync(path.join(dir, 'conversations')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('loses nothing acknowledged when the writer is killed with SIGKILL mid-write', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures/store-writer.ts'), dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acked = new Map<string, number>();
    let buffer = '';
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`writer exited early: ${code}`))));
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) {
          const [, id, n] = line.split(' ');
          acked.set(id, Math.max(acked.get(id) ?? 0, Number(n)));
        }
        // Kill once plenty has been written; more writes are in flight at that moment.
        if ((acked.get('a') ?? 0) >= 40 && !child.killed) child.kill('SIGKILL');
      });
    });
    const problems: StoreProblem[] = [];
    const store = await ConversationStore.open(dir, (p) => problems.push(p));
    expect(problems).toEqual([]);
    for (const [id, n] of acked) {
      const c = store.get(id);
      expect(c, id).toBeDefined();
      expect(c!.messages.length).toBeGreaterThanOrEqual(n);
      expect(c!.messages[n - 1].content.startsWith(`${n} `)).toBe(true);
    }
    expect(readdirSync(path.join(dir, 'conversations')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('backs up and reports a corrupt file instead of wiping it, and keeps the rest', async () => {
    const dir = tempDir();
    const store = await ConversationStore.open(dir, () => {});
    await store.save(conversation('good'));
    const badFile = path.join(dir, 'conversations', 'bad.json');
    await fs.writeFile(badFile, '{"id": "bad", "title": tru');
    const wrongShape = path.join(dir, 'conversations', 'shape.json');
    await fs.writeFile(wrongShape, JSON.stringify({ ...conversation('shape'), messages: [{ role: 'robot' }] }));
    const problems: StoreProblem[] = [];
    const reopened = await ConversationStore.open(dir, (p) => problems.push(p));
    expect(reopened.list().map((c) => c.id)).toEqual(['good']);
    expect(problems).toHaveLength(2);
    const bad = problems.find((p) => p.file === badFile)!;
    expect(bad.message).toMatch(/bad\.json.*invalid JSON/);
    expect(await fs.readFile(bad.backupPath!, 'utf8')).toBe('{"id": "bad", "title": tru');
    expect(problems.find((p) => p.file === wrongShape)!.message).toMatch(/messages\.0/);
  });
});
