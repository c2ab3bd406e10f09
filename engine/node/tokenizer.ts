// Text <-> token ids for a model folder: tokenizer.json through @huggingface/tokenizers, chat
// messages through the Jinja chat_template of tokenizer_config.json (@huggingface/jinja).
import { Tokenizer } from '@huggingface/tokenizers';
import { Template } from '@huggingface/jinja';
import type { ChatMessage, GenerationInput } from '../common/api.js';

export interface TokenizerFiles {
  tokenizerJson: unknown;
  tokenizerConfig: Record<string, unknown>;
  bosTokenId: number;
  /** Used in error messages. */
  modelName: string;
}

/** Text of a special token in tokenizer_config.json (a string or an AddedToken object). */
function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

/**
 * Prompt rendering when a model has no chat_template: one "Role: content" line per message and an
 * open "Assistant:" turn (the plain layout of bitnet-b1.58-2B-4T's template, without its special tokens).
 */
export function plainChatPrompt(messages: ChatMessage[]): string {
  const cap = (r: string) => r[0].toUpperCase() + r.slice(1);
  return messages.map((m) => `${cap(m.role)}: ${m.content}\n`).join('') + 'Assistant:';
}

export class TextCodec {
  private readonly tokenizer: Tokenizer;
  private readonly template?: Template;
  private readonly bosText?: string;
  private readonly eosText?: string;

  constructor(private readonly files: TokenizerFiles) {
    try {
      this.tokenizer = new Tokenizer(files.tokenizerJson as object, files.tokenizerConfig);
    } catch (e) {
      throw new Error(`model "${files.modelName}": tokenizer.json could not be loaded: ${(e as Error).message}`);
    }
    const tpl = files.tokenizerConfig.chat_template;
    if (typeof tpl === 'string') {
      try {
        this.template = new Template(tpl);
      } catch (e) {
        throw new Error(`model "${files.modelName}": chat_template in tokenizer_config.json does not parse: ${(e as Error).message}`);
      }
    }
    this.bosText = tokenText(files.tokenizerConfig.bos_token) ?? this.tokenizer.id_to_token(files.bosTokenId);
    this.eosText = tokenText(files.tokenizerConfig.eos_token);
  }

  get hasChatTemplate(): boolean {
    return this.template !== undefined;
  }

  /** Token ids without any special tokens added. */
  encodeText(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /**
   * Prompt ids for an input: a raw prompt is [BOS] + its tokens; messages are rendered with the chat
   * template (or plainChatPrompt), tokenized without added specials, and get a BOS in front unless the
   * template already put one there.
   */
  encodeInput(input: GenerationInput): number[] {
    if ('prompt' in input) {
      if (typeof input.prompt !== 'string') throw new TypeError('input.prompt must be a string');
      return [this.files.bosTokenId, ...this.encodeText(input.prompt)];
    }
    if (!Array.isArray(input.messages) || input.messages.length === 0) throw new TypeError('input.messages must be a non-empty list');
    for (const m of input.messages) {
      if (!['system', 'user', 'assistant'].includes(m?.role) || typeof m.content !== 'string') {
        throw new TypeError(`invalid chat message ${JSON.stringify(m)}: role must be system|user|assistant and content a string`);
      }
    }
    const text = this.template
      ? this.template.render({ messages: input.messages, add_generation_prompt: true, bos_token: this.bosText ?? '', eos_token: this.eosText ?? '' })
      : plainChatPrompt(input.messages);
    const ids = this.encodeText(text);
    return ids[0] === this.files.bosTokenId ? ids : [this.files.bosTokenId, ...ids];
  }

  /** Text of generated ids (special tokens skipped). */
  decode(ids: number[]): string {
    return this.tokenizer.decode(ids, { skip_special_tokens: true });
  }
}
