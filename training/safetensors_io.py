"""Minimal safetensors reader/writer (the format is a JSON header plus raw little-endian data)."""
import json
import struct

import numpy as np

_DTYPES = {'F32': np.float32, 'F16': np.float16, 'U8': np.uint8, 'I64': np.int64}
_NAMES = {np.dtype(v): k for k, v in _DTYPES.items()}


def write(path, tensors, metadata=None):
    header, offset, blobs = {}, 0, []
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        data = arr.astype(arr.dtype.newbyteorder('<'), copy=False).tobytes()
        header[name] = {'dtype': _NAMES[arr.dtype], 'shape': list(arr.shape), 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    if metadata:
        header['__metadata__'] = metadata
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read(path):
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop('__metadata__', None)
    base, out = 8 + n, {}
    for name, info in header.items():
        a, b = info['data_offsets']
        out[name] = np.frombuffer(raw[base + a:base + b], dtype=_DTYPES[info['dtype']]).reshape(info['shape'])
    return out
