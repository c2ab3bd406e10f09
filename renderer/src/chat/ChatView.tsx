// The chat column: settings, messages with the streaming answer, composer.
import { useCallback, useEffect, useRef } from 'react';
import type { Message } from '../../../contract/index.js';
import { useAppState, useController } from '../app/context.js';
import { Composer } from './Composer.js';
import { MessageItem } from './MessageItem.js';
import { SettingsPanel } from './SettingsPanel.js';

export function ChatView() {
  const controller = useController();
  const current = useAppState((s) => s.current);
  const generation = useAppState((s) => s.generation);
  const selection = useAppState((s) => s.selection);
  const listRef = useRef<HTMLDivElement>(null);

  const generating = !!generation && generation.conversationId === current?.id;
  const messages: Message[] = current?.messages ?? [];
  const streamingMissing = generating && !messages.some((m) => m.id === generation.messageId);
  const shown: Message[] = streamingMissing
    ? [...messages, { id: generation.messageId, role: 'assistant', content: '', createdAt: '' }]
    : messages;

  // Keep the newest text in view while streaming unless the user scrolled up.
  useEffect(() => {
    const el = listRef.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 120) el.scrollTop = el.scrollHeight;
  }, [generation?.text.length, shown.length]);

  const onInspect = useCallback(
    (messageId: string, position: number) => {
      if (current) void controller.inspectToken({ conversationId: current.id, messageId, position });
    },
    [controller, current?.id],
  );
  const onEdit = useCallback((index: number, text: string) => void controller.editAndContinue(index, text), [controller]);

  return (
    <section className="chat" aria-label="Chat">
      {current && <SettingsPanel conversation={current} />}
      <div className="messages" ref={listRef} aria-live="polite" aria-busy={generating}>
        {!current && <p className="empty">Start a new chat, or pick one on the left.</p>}
        {current && shown.length === 0 && <p className="empty">No messages yet. Type below to start.</p>}
        {shown.map((m, i) => {
          const live = generating && m.id === generation.messageId;
          return (
            <MessageItem
              key={m.id}
              message={m}
              index={i}
              streaming={live}
              liveText={live ? generation.text : undefined}
              liveTokens={live ? generation.tokens : undefined}
              selectedPosition={selection?.messageId === m.id ? selection.position : null}
              onInspect={(pos) => onInspect(m.id, pos)}
              onEdit={onEdit}
              editable={!generating}
            />
          );
        })}
      </div>
      <Composer
        conversationId={current?.id ?? null}
        generating={generating}
        canRegenerate={messages.some((m) => m.role === 'assistant') || messages.at(-1)?.role === 'user'}
        onSend={(text) => controller.send(text)}
        onStop={() => void controller.stop()}
        onRegenerate={() => void controller.regenerate()}
      />
    </section>
  );
}
