// The prompt box. The draft lives in localStorage per conversation and is only cleared once the
// host accepted the message, so a failed send, a crash or a reload never loses it.
import { useEffect, useRef, useState } from 'react';
import { safeStorage } from '../state/controller.js';

interface Props {
  conversationId: string | null;
  generating: boolean;
  canRegenerate: boolean;
  /** Resolves with the conversation the message went to, or null when it was not accepted. */
  onSend: (text: string) => Promise<string | null>;
  onStop: () => void;
  onRegenerate: () => void;
}

const draftKey = (id: string | null) => `bitlens.draft.${id ?? 'new'}`;

export function Composer(p: Props) {
  const [text, setText] = useState(() => safeStorage()?.getItem(draftKey(p.conversationId)) ?? '');
  const [sending, setSending] = useState(false);

  const shownFor = useRef(p.conversationId);
  useEffect(() => {
    const storage = safeStorage();
    if (shownFor.current === null && p.conversationId !== null && text) {
      // Sending from "no conversation" creates one first: the draft moves with it, even if the
      // send then fails.
      storage?.setItem(draftKey(p.conversationId), text);
      storage?.removeItem(draftKey(null));
    } else {
      setText(storage?.getItem(draftKey(p.conversationId)) ?? '');
    }
    shownFor.current = p.conversationId;
  }, [p.conversationId]);

  const change = (v: string) => {
    setText(v);
    const storage = safeStorage();
    if (v) storage?.setItem(draftKey(p.conversationId), v);
    else storage?.removeItem(draftKey(p.conversationId));
  };

  const send = async () => {
    const value = text.trim();
    if (!value || sending || p.generating) return;
    setSending(true);
    const key = draftKey(p.conversationId);
    const sentTo = await p.onSend(value);
    setSending(false);
    if (sentTo !== null) {
      safeStorage()?.removeItem(key);
      safeStorage()?.removeItem(draftKey(sentTo));
      setText('');
    }
  };

  return (
    <form className="composer" onSubmit={(e) => { e.preventDefault(); void send(); }}>
      <textarea
        aria-label="Message"
        placeholder="Ask something… (Enter sends, Shift+Enter for a new line)"
        value={text}
        rows={3}
        onChange={(e) => change(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            void send();
          }
        }}
      />
      <div className="composer-actions">
        {p.generating ? (
          <button type="button" className="danger" onClick={p.onStop}>Stop</button>
        ) : (
          <button type="submit" className="primary" disabled={!text.trim() || sending}>Send</button>
        )}
        <button type="button" onClick={p.onRegenerate} disabled={p.generating || !p.canRegenerate}>Regenerate</button>
      </div>
    </form>
  );
}
