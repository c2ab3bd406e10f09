// Recent inspector frames per assistant message, so the UI can look at any past token. Bounded by
// bytes: when over budget the oldest frames of the least recently written message go first.
import type { TapFrame } from '../../engine/common/api.js';

function frameBytes(frame: TapFrame): number {
  let n = 0;
  for (const layer of frame.layers) for (const v of Object.values(layer)) n += (v as Float32Array | undefined)?.byteLength ?? 0;
  return n + 64;
}

export class TapCache {
  // Map order = least recently written message first; inner maps in insertion (position) order.
  private readonly messages = new Map<string, Map<number, TapFrame>>();
  private bytes = 0;

  constructor(private readonly budgetBytes = 128 * 1024 * 1024) {}

  put(messageId: string, frame: TapFrame): void {
    let frames = this.messages.get(messageId);
    if (frames) this.messages.delete(messageId);
    else frames = new Map();
    this.messages.set(messageId, frames);
    const old = frames.get(frame.position);
    if (old) this.bytes -= frameBytes(old);
    frames.set(frame.position, frame);
    this.bytes += frameBytes(frame);
    this.evict();
  }

  get(messageId: string, position: number): TapFrame | null {
    return this.messages.get(messageId)?.get(position) ?? null;
  }

  drop(messageId: string): void {
    const frames = this.messages.get(messageId);
    if (!frames) return;
    for (const f of frames.values()) this.bytes -= frameBytes(f);
    this.messages.delete(messageId);
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  private evict(): void {
    while (this.bytes > this.budgetBytes) {
      const [id, frames] = this.messages.entries().next().value!;
      const [position, frame] = frames.entries().next().value!;
      frames.delete(position);
      this.bytes -= frameBytes(frame);
      if (frames.size === 0) this.messages.delete(id);
    }
  }
}
