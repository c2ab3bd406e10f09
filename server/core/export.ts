// Conversation export (conversations.export): the stored JSON, or readable Markdown.
import type { Conversation } from '../../contract/index.js';

export function exportConversation(c: Conversation, format: 'json' | 'markdown') {
  const base = (c.title || 'conversation').replace(/[^\p{L}\p{N} _-]/gu, '').trim().slice(0, 60) || 'conversation';
  if (format === 'json') {
    return { filename: `${base}.json`, mimeType: 'application/json', content: JSON.stringify(c, null, 2) };
  }
  const lines = [`# ${c.title}`, ''];
  if (c.systemPrompt) lines.push(`> **System:** ${c.systemPrompt.replace(/\n/g, '\n> ')}`, '');
  for (const m of c.messages) {
    if (m.role === 'user') {
      lines.push('## User', '', m.content, '');
    } else {
      lines.push('## Assistant', '', m.content, '');
      if (m.stats) {
        const s = m.stats;
        lines.push(
          `_${s.modelName} · ${s.scheme}${s.experiment ? ` · EXPERIMENT ${s.experiment}` : ''} · KV ${s.kvBits}-bit · ${s.device} · ${s.tokensPerSec.toFixed(1)} tok/s · ` +
            `TTFT ${Math.round(s.timeToFirstTokenMs)} ms · ${s.generatedTokens} tokens${m.finishReason ? ` · ${m.finishReason}` : ''}_`,
          '',
        );
      }
      if (m.error) lines.push(`_Error: ${m.error}_`, '');
    }
  }
  return { filename: `${base}.md`, mimeType: 'text/markdown', content: lines.join('\n') };
}
