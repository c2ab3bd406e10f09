// One message: text (assistant text as clickable tokens for the inspector), stats, edit.
import { memo, useState, type KeyboardEvent } from 'react';
import type { Message, TokenSpan } from '../../../contract/index.js';

interface Props {
  message: Message;
  index: number;
  streaming: boolean;
  /** Streaming text and tokens override the stored ones while generating. */
  liveText?: string;
  liveTokens?: TokenSpan[];
  selectedPosition: number | null;
  onInspect: (position: number) => void;
  onEdit: (index: number, text: string) => void;
  editable: boolean;
}

/** Tokens per memoised chunk: while streaming only the last chunk re-renders, not the whole answer. */
const CHUNK = 64;

interface ChunkProps {
  tokens: TokenSpan[];
  start: number;
  end: number;
  selected: number | null;
  plain: boolean;
}

const TokenChunk = memo(
  function TokenChunk({ tokens, start, end, selected, plain }: ChunkProps) {
    if (plain) {
      let text = '';
      for (let i = start; i < end; i++) text += tokens[i].text;
      return <span className="chunk">{text}</span>;
    }
    const out = [];
    for (let i = start; i < end; i++) {
      const t = tokens[i];
      out.push(
        <span key={t.position} data-pos={t.position} className={t.position === selected ? 'tok selected' : 'tok'}>
          {t.text}
        </span>,
      );
    }
    return <>{out}</>;
  },
  // Token objects are shared between renders, so identity of the ends says the chunk is unchanged.
  (a, b) => a.start === b.start && a.end === b.end && a.selected === b.selected && a.plain === b.plain && a.tokens[a.start] === b.tokens[b.start] && a.tokens[a.end - 1] === b.tokens[b.end - 1],
);

function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '–';
}

export const MessageItem = memo(function MessageItem(p: Props) {
  const { message } = p;
  const [editing, setEditing] = useState<string | null>(null);
  const tokens = p.liveTokens ?? message.tokens;
  const text = p.liveText ?? message.content;

  const onTokenKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (!tokens?.length) return;
    const i = tokens.findIndex((t) => t.position === p.selectedPosition);
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      e.preventDefault();
      const next = i < 0 ? (e.key === 'ArrowRight' ? 0 : tokens.length - 1) : Math.min(tokens.length - 1, Math.max(0, i + (e.key === 'ArrowRight' ? 1 : -1)));
      p.onInspect(tokens[next].position);
    }
  };

  return (
    <article className={`message message-${message.role}${p.streaming ? ' streaming' : ''}`} aria-label={`${message.role} message`} data-testid={`message-${message.role}`}>
      <header>
        <span className="role">{message.role === 'user' ? 'You' : 'Assistant'}</span>
        {message.role === 'user' && p.editable && editing === null && (
          <button type="button" className="link" onClick={() => setEditing(message.content)}>Edit</button>
        )}
      </header>
      {editing !== null ? (
        <form
          className="edit-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (editing.trim()) p.onEdit(p.index, editing);
            setEditing(null);
          }}
        >
          <textarea aria-label="Edit message" value={editing} onChange={(e) => setEditing(e.target.value)} rows={3} />
          <div className="row">
            <button type="submit" className="primary">Save &amp; continue</button>
            <button type="button" onClick={() => setEditing(null)}>Cancel</button>
          </div>
        </form>
      ) : message.role === 'assistant' && tokens && tokens.length ? (
        <div
          className="text tokens"
          tabIndex={0}
          role="group"
          aria-label="Answer tokens: arrow keys pick the token shown in the inspector"
          data-testid="assistant-text"
          onKeyDown={onTokenKey}
          onClick={(e) => {
            const pos = (e.target as HTMLElement).dataset.pos;
            if (pos !== undefined) p.onInspect(Number(pos));
          }}
        >
          {Array.from({ length: Math.ceil(tokens.length / CHUNK) }, (_, c) => {
            const start = c * CHUNK;
            const end = Math.min(tokens.length, start + CHUNK);
            const sel = p.selectedPosition !== null && p.selectedPosition >= tokens[start].position && p.selectedPosition <= tokens[end - 1].position ? p.selectedPosition : null;
            // While streaming, finished chunks are one text run: thousands of token spans made
            // every update re-lay out the whole answer. They become clickable spans when it ends.
            const plain = p.streaming && end < tokens.length && sel === null;
            return <TokenChunk key={`${c}${plain ? 'p' : 't'}`} tokens={tokens} start={start} end={end} selected={sel} plain={plain} />;
          })}
          {p.streaming && <span className="cursor" aria-hidden="true">▍</span>}
        </div>
      ) : (
        <div className="text" data-testid={message.role === 'assistant' ? 'assistant-text' : undefined}>
          {text}
          {p.streaming && <span className="cursor" aria-hidden="true">▍</span>}
        </div>
      )}
      {message.error && <p className="msg-error" role="alert">Error: {message.error}</p>}
      {message.stats && (
        <footer className="msg-stats" data-testid="message-stats">
          {message.stats.modelName} · {message.stats.scheme}{message.stats.experiment ? ` · EXPERIMENT ${message.stats.experiment}` : ''} · KV {message.stats.kvBits} · {message.stats.device} ·{' '}
          {fmt(message.stats.tokensPerSec)} tok/s · TTFT {fmt(message.stats.timeToFirstTokenMs, 0)} ms · {message.stats.generatedTokens} tokens
          {message.finishReason ? ` · ${message.finishReason}` : ''}
        </footer>
      )}
    </article>
  );
});
