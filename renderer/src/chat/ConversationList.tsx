// The conversation list: open, create, rename, delete, export.
import { useState } from 'react';
import { useAppState, useController } from '../app/context.js';
import { downloadText } from '../export/download.js';

export function ConversationList() {
  const controller = useController();
  const conversations = useAppState((s) => s.conversations);
  const currentId = useAppState((s) => s.current?.id ?? null);
  const [renaming, setRenaming] = useState<{ id: string; title: string } | null>(null);

  const exportAs = async (id: string, format: 'json' | 'markdown') => {
    const r = await controller.exportConversation(id, format);
    if (r) downloadText(r.filename, r.content, r.mimeType);
  };

  return (
    <nav className="conversations" aria-label="Conversations">
      <button type="button" className="primary" onClick={() => void controller.newConversation()}>+ New chat</button>
      <ul>
        {conversations.map((c) => (
          <li key={c.id} className={c.id === currentId ? 'current' : undefined}>
            {renaming?.id === c.id ? (
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  if (renaming.title.trim()) void controller.renameConversation(c.id, renaming.title.trim());
                  setRenaming(null);
                }}
              >
                <input
                  aria-label="Conversation title"
                  value={renaming.title}
                  autoFocus
                  onChange={(e) => setRenaming({ id: c.id, title: e.target.value })}
                  onKeyDown={(e) => e.key === 'Escape' && setRenaming(null)}
                />
              </form>
            ) : (
              <button
                type="button"
                className="conv-open"
                aria-current={c.id === currentId ? 'true' : undefined}
                onClick={() => void controller.openConversation(c.id)}
              >
                <span className="conv-title">{c.title || 'Untitled'}</span>
                <span className="conv-meta">{c.messageCount} msg</span>
              </button>
            )}
            {c.id === currentId && renaming?.id !== c.id && (
              <div className="conv-actions">
                <button type="button" onClick={() => setRenaming({ id: c.id, title: c.title })}>Rename</button>
                <button type="button" onClick={() => void exportAs(c.id, 'markdown')}>.md</button>
                <button type="button" onClick={() => void exportAs(c.id, 'json')}>.json</button>
                <button
                  type="button"
                  onClick={() => {
                    if (confirm(`Delete "${c.title || 'Untitled'}"?`)) void controller.deleteConversation(c.id);
                  }}
                >
                  Delete
                </button>
              </div>
            )}
          </li>
        ))}
      </ul>
    </nav>
  );
}
