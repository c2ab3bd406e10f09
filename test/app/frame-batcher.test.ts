// renderer/host delivers generation.tokens at most once per animation frame, merged, and never
// lets generation.done overtake pending tokens.
import { describe, expect, it } from 'vitest';
import { EventListeners } from '../../renderer/host/listeners.js';
import type { EventPayload } from '../../contract/index.js';

const stats = { phase: 'decode', promptTokens: 3, generatedTokens: 1, timeToFirstTokenMs: 1, prefillTokensPerSec: 1, decodeTokensPerSec: 1, rssBytes: 1, kvCacheBytes: 1, kvCacheBytesFp16: 2 } as const;
const batch = (messageId: string, position: number, tap?: number) => ({
  conversationId: 'c',
  messageId,
  tokens: [{ position, tokenId: position, text: `t${position}` }],
  stats: { ...stats, generatedTokens: position },
  ...(tap !== undefined && { taps: { position, tokenId: position, layers: [{ qkv: new Float32Array([tap]), o: new Float32Array(1), gateup: new Float32Array(1), down: new Float32Array(1) }] } }),
});

describe('per-animation-frame delivery', () => {
  it('merges batches between frames: tokens in order, latest stats, latest tap frame', () => {
    const frames: (() => void)[] = [];
    const listeners = new EventListeners((cb) => frames.push(cb));
    const got: EventPayload<'generation.tokens'>[] = [];
    listeners.on('generation.tokens', (p) => got.push(p));
    for (let i = 1; i <= 300; i++) listeners.receive('generation.tokens', batch('m', i, i % 7 === 0 ? i : undefined));
    expect(frames).toHaveLength(1); // one frame requested for 300 batches
    expect(got).toHaveLength(0);
    frames.shift()!();
    expect(got).toHaveLength(1);
    expect(got[0].tokens.map((t) => t.position)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(got[0].stats.generatedTokens).toBe(300);
    expect(got[0].taps!.position).toBe(294);
    listeners.receive('generation.tokens', batch('m', 301));
    expect(frames).toHaveLength(1);
  });

  it('flushes pending tokens before generation.done, and drops malformed events', () => {
    const frames: (() => void)[] = [];
    const listeners = new EventListeners((cb) => frames.push(cb));
    const order: string[] = [];
    listeners.on('generation.tokens', (p) => order.push(`tokens:${p.tokens.length}`));
    listeners.on('generation.error', () => order.push('error'));
    listeners.receive('generation.tokens', batch('m', 1));
    listeners.receive('generation.tokens', batch('m', 2));
    listeners.receive('generation.tokens', { ...batch('m', 3), tokens: 'oops' });
    listeners.receive('no.such.event', {});
    listeners.receive('generation.error', { conversationId: 'c', messageId: 'm', error: 'boom' });
    expect(order).toEqual(['tokens:2', 'error']);
    frames.shift()!(); // the frame that was scheduled finds nothing left
    expect(order).toEqual(['tokens:2', 'error']);
  });
});
