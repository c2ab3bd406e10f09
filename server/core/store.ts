// Conversations on disk: one JSON file per conversation under <dataDir>/conversations, written
// atomically (atomic-file.ts) and serialized per conversation, so a save that resolved survives
// kill -9. Unreadable files are moved to <dataDir>/backup and reported, never wiped.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ConversationSchema, formatIssues, type Conversation, type ConversationSummary } from '../../contract/index.js';
import { backUpCorruptFile, removeStaleTempFiles, writeFileAtomic } from './atomic-file.js';

export interface StoreProblem {
  message: string;
  file?: string;
  backupPath?: string;
}

const FILE_ID = /^[A-Za-z0-9_-]{1,100}$/;

export class ConversationStore {
  private readonly conversations = new Map<string, Conversation>();
  private readonly queues = new Map<string, Promise<void>>();

  private constructor(
    private readonly dir: string,
    private readonly backupDir: string,
  ) {}

  /** Load every conversation; corrupt ones are backed up and passed to `report`. */
  static async open(dataDir: string, report: (problem: StoreProblem) => void): Promise<ConversationStore> {
    const dir = path.join(dataDir, 'conversations');
    const store = new ConversationStore(dir, path.join(dataDir, 'backup'));
    await fs.mkdir(dir, { recursive: true });
    await removeStaleTempFiles(dir);
    for (const name of (await fs.readdir(dir)).sort()) {
      if (!name.endsWith('.json')) continue;
      const file = path.join(dir, name);
      const problem = await store.loadFile(file);
      if (problem) {
        const backupPath = await backUpCorruptFile(file, store.backupDir);
        report({ message: `${name} could not be read (${problem}); moved to ${backupPath}`, file, backupPath });
      }
    }
    return store;
  }

  private async loadFile(file: string): Promise<string | null> {
    let json: unknown;
    try {
      json = JSON.parse(await fs.readFile(file, 'utf8'));
    } catch (error) {
      return `invalid JSON: ${(error as Error).message}`;
    }
    const parsed = ConversationSchema.safeParse(json);
    if (!parsed.success) return formatIssues('conversation', parsed.error);
    if (`${parsed.data.id}.json` !== path.basename(file)) return `id ${parsed.data.id} does not match the file name`;
    this.conversations.set(parsed.data.id, parsed.data);
    return null;
  }

  list(): ConversationSummary[] {
    return [...this.conversations.values()]
      .map((c) => ({ id: c.id, title: c.title, updatedAt: c.updatedAt, messageCount: c.messages.length }))
      .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  }

  get(id: string): Conversation | undefined {
    const c = this.conversations.get(id);
    return c && structuredClone(c);
  }

  /** Persist a conversation; resolves once it is durably on disk. */
  save(conversation: Conversation): Promise<void> {
    if (!FILE_ID.test(conversation.id)) return Promise.reject(new Error(`invalid conversation id ${conversation.id}`));
    const snapshot = ConversationSchema.parse(structuredClone(conversation));
    this.conversations.set(snapshot.id, snapshot);
    const text = JSON.stringify(snapshot, null, 1);
    return this.enqueue(snapshot.id, () => writeFileAtomic(this.fileOf(snapshot.id), text));
  }

  async delete(id: string): Promise<boolean> {
    if (!this.conversations.delete(id)) return false;
    await this.enqueue(id, () => fs.rm(this.fileOf(id), { force: true }));
    return true;
  }

  /** Wait for every queued write (shutdown). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.queues.values()]);
  }

  private fileOf(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  // Writes of one conversation run in order, so an older snapshot never overwrites a newer one.
  private enqueue(id: string, write: () => Promise<void>): Promise<void> {
    const previous = this.queues.get(id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(write);
    this.queues.set(id, next);
    void next.finally(() => {
      if (this.queues.get(id) === next) this.queues.delete(id);
    }).catch(() => undefined);
    return next;
  }
}
