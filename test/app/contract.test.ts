import { describe, expect, it } from 'vitest';
import {
  BitLensError,
  decodeWire,
  encodeWire,
  parseEvent,
  parseRequest,
  requests,
  REQUEST_NAMES,
} from '../../contract/index.js';

describe('contract schemas', () => {
  it('carries the v2 retrofit experiment in models.select', () => {
    const run = { modelId: 'm', scheme: 'v2-a4', kvBits: 16, device: 'cpu', taps: true, experiment: 'v2-retrofit-w16a4' };
    expect(parseRequest('models.select', run).params).toEqual(run);
  });

  it('accepts a well-formed request', () => {
    const { name, params } = parseRequest('chat.send', { conversationId: 'c1', text: 'hi' });
    expect(name).toBe('chat.send');
    expect(params).toEqual({ conversationId: 'c1', text: 'hi' });
  });

  it('rejects unknown requests and malformed params, naming the field', () => {
    expect(() => parseRequest('chat.explode', {})).toThrow(/unknown request/);
    const cases: [string, unknown, RegExp][] = [
      ['chat.send', { conversationId: 'c1' }, /chat\.send\.text/],
      ['chat.send', { conversationId: 'c1', text: 5 }, /chat\.send\.text/],
      ['chat.send', { conversationId: 'c1', text: 'x', extra: 1 }, /extra/],
      ['models.select', { modelId: 'm', scheme: 'b2', kvBits: 16, device: 'cpu', taps: true }, /models\.select\.scheme/],
      ['models.select', { modelId: 'm', scheme: 'fp', kvBits: 5, device: 'cpu', taps: true }, /models\.select\.kvBits/],
      ['models.select', { modelId: 'm', scheme: 'v2-a4', kvBits: 16, device: 'cpu', taps: true, experiment: 'v3' }, /models\.select\.experiment/],
      ['conversations.update', { conversationId: 'c', sampling: { temperature: -1 } }, /sampling\.temperature/],
      ['chat.editAndContinue', { conversationId: 'c', messageIndex: 1.5, text: 'x' }, /messageIndex/],
      ['conversations.export', { conversationId: 'c', format: 'pdf' }, /format/],
      ['taps.get', { conversationId: 'c', messageId: 'm', position: -1 }, /position/],
    ];
    for (const [name, params, re] of cases) {
      let error: unknown;
      try {
        parseRequest(name, params);
      } catch (e) {
        error = e;
      }
      expect(error, name).toBeInstanceOf(BitLensError);
      expect((error as BitLensError).code).toBe('invalid_request');
      expect((error as BitLensError).message).toMatch(re);
    }
  });

  it('has a params and result schema for every request', () => {
    expect(REQUEST_NAMES.length).toBeGreaterThanOrEqual(16);
    for (const name of REQUEST_NAMES) {
      expect(requests[name].params).toBeDefined();
      expect(requests[name].result).toBeDefined();
    }
  });

  it('event payloads with a tap frame survive the WebSocket codec bit for bit', () => {
    const qkv = new Float32Array([1.5, -0, Number.NaN, 3.4028234663852886e38, -1e-45]);
    const payload = {
      conversationId: 'c',
      messageId: 'm',
      tokens: [{ position: 3, tokenId: 7, text: 'a' }],
      stats: {
        phase: 'decode',
        promptTokens: 3,
        generatedTokens: 1,
        timeToFirstTokenMs: 1,
        prefillTokensPerSec: 1,
        decodeTokensPerSec: 1,
        rssBytes: 1,
        kvCacheBytes: 1,
        kvCacheBytesFp16: 2,
      },
      taps: { position: 3, tokenId: 7, layers: [{ qkv, o: new Float32Array(4), gateup: new Float32Array(2), down: new Float32Array(0) }] },
    };
    const decoded = parseEvent('generation.tokens', decodeWire(encodeWire(payload)));
    const got = decoded.taps!.layers[0].qkv;
    expect(got).toBeInstanceOf(Float32Array);
    expect(new Uint8Array(got.buffer)).toEqual(new Uint8Array(qkv.buffer));
    expect(decoded.taps!.layers[0].down.length).toBe(0);
    // A subarray view encodes only its own elements.
    const view = new Float32Array([9, 8, 7, 6]).subarray(1, 3);
    expect(Array.from((decodeWire(encodeWire({ v: view })) as { v: Float32Array }).v)).toEqual([8, 7]);
  });

  it('rejects a tap frame whose vectors are not Float32Array', () => {
    expect(() =>
      parseEvent('generation.tokens', {
        conversationId: 'c',
        messageId: 'm',
        tokens: [],
        stats: { phase: 'decode', promptTokens: 0, generatedTokens: 0, timeToFirstTokenMs: 0, prefillTokensPerSec: 0, decodeTokensPerSec: 0, rssBytes: 0, kvCacheBytes: 0, kvCacheBytesFp16: 0 },
        taps: { position: 0, tokenId: 0, layers: [{ qkv: [1, 2], o: new Float32Array(1), gateup: new Float32Array(1), down: new Float32Array(1) }] },
      }),
    ).toThrow(/taps\.layers\.0\.qkv/);
  });
});
