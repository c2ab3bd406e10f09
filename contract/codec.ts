// Float32Array codec for the JSON WebSocket transport.
//
// Electron's IPC and MessagePorts use structured clone, which carries Float32Array as is. JSON does
// not, so over the WebSocket every Float32Array (tap vectors) is sent as
//   { "$f32": "<base64 of the array's bytes, little-endian IEEE-754 float32>" }
// and turned back into a Float32Array on receipt. Every platform BitLens runs on is little-endian,
// so the bytes are the array's memory as is. Base64 keeps one JSON message per envelope (no
// separate binary frames to pair up) at a 4/3 size cost, which is small next to a tap frame's rate
// (the host sends at most one frame per batch).

const F32_KEY = '$f32';

function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  const chunk = 0x8000; // String.fromCharCode's argument count is limited
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function encodeFloat32(array: Float32Array): { $f32: string } {
  return { [F32_KEY]: bytesToBase64(new Uint8Array(array.buffer, array.byteOffset, array.byteLength)) } as {
    $f32: string;
  };
}

export function decodeFloat32(encoded: string): Float32Array {
  const bytes = base64ToBytes(encoded);
  if (bytes.byteLength % 4 !== 0) throw new Error(`$f32: ${bytes.byteLength} bytes is not a whole number of float32`);
  // Copy into a fresh, aligned buffer.
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** JSON.stringify with Float32Array support (see the module comment for the format). */
export function encodeWire(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v instanceof Float32Array ? encodeFloat32(v) : v));
}

/** JSON.parse reversing encodeWire. */
export function decodeWire(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === F32_KEY) {
        const encoded = (v as Record<string, unknown>)[F32_KEY];
        if (typeof encoded !== 'string') throw new Error('$f32 must be a base64 string');
        return decodeFloat32(encoded);
      }
    }
    return v;
  });
}
