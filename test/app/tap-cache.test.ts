import { describe, expect, it } from 'vitest';
import { TapCache } from '../../server/core/tap-cache.js';
import type { TapFrame } from '../../engine/common/api.js';

const frame = (position: number, floats = 250): TapFrame => ({
  position,
  tokenId: 1,
  layers: [{ qkv: new Float32Array(floats), o: new Float32Array(0), gateup: new Float32Array(0), down: new Float32Array(0) }],
});

describe('tap frame cache', () => {
  it('keeps frames per message and position within a byte budget, dropping the oldest first', () => {
    const cache = new TapCache(10 * (1000 + 64));
    for (let p = 0; p < 6; p++) cache.put('a', frame(p));
    for (let p = 0; p < 6; p++) cache.put('b', frame(p));
    expect(cache.sizeBytes).toBeLessThanOrEqual(10 * 1064);
    // Message a (least recently written) lost its oldest frames; b is complete.
    expect(cache.get('a', 0)).toBeNull();
    expect(cache.get('a', 1)).toBeNull();
    expect(cache.get('a', 5)!.position).toBe(5);
    expect(cache.get('b', 0)!.position).toBe(0);
    cache.drop('a');
    expect(cache.get('a', 5)).toBeNull();
    expect(cache.sizeBytes).toBe(6 * 1064);
    cache.put('b', frame(3)); // replacing a frame does not double count
    expect(cache.sizeBytes).toBe(6 * 1064);
  });
});
