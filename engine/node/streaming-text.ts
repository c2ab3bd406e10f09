// Streaming text with stop strings: given the decoded text so far after each token, hands out only
// the new text that is final, i.e. not an incomplete UTF-8 character (U+FFFD at the end) and not
// a possible beginning of a stop string; ends the text at the first stop string.

export class StreamingText {
  private full = '';
  private emitted = 0;
  stopped = false;

  constructor(private readonly stops: string[]) {}

  /** New decoded text of all generated tokens; returns the part that can be shown now. */
  push(decoded: string): string {
    this.full = decoded;
    let hit = -1;
    for (const s of this.stops) {
      const i = decoded.indexOf(s);
      if (i >= 0 && (hit < 0 || i < hit)) hit = i;
    }
    if (hit >= 0) {
      this.stopped = true;
      this.full = decoded.slice(0, hit);
      return this.take(this.full.length);
    }
    let end = decoded.length;
    while (end > 0 && decoded[end - 1] === '\uFFFD') end--;
    // Hold back a suffix that could still grow into a stop string.
    let hold = 0;
    for (const s of this.stops) {
      for (let k = Math.min(s.length - 1, end); k > hold; k--) {
        if (decoded.endsWith(s.slice(0, k), end)) {
          hold = k;
          break;
        }
      }
    }
    const safe = end - hold;
    return this.take(safe);
  }

  /** Everything not yet handed out (generation ended). */
  flush(): string {
    return this.take(this.full.length);
  }

  final(): string {
    return this.full;
  }

  private take(end: number): string {
    if (end <= this.emitted) return '';
    const out = this.full.slice(this.emitted, end);
    this.emitted = end;
    return out;
  }
}
