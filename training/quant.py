"""The BitNet quantizers of ../shared/spec/bitnet.md, in fp32, with straight-through estimators.

round = torch.round (half to even), eps = 1e-5, scales per token (activations) or per tensor
(weights). Each function returns the dequantized value; `*_codes` functions return the integer
codes and the scale for the exporter and the fp32 reference.
"""
import math

import torch

EPS = 1e-5
SQRT7 = math.sqrt(7.0)


def weight_codes(w):
    """Ternary codes and alpha = mean|W| (per tensor)."""
    w = w.float()
    alpha = w.abs().mean()
    return torch.clamp(torch.round(w / (alpha + EPS)), -1, 1), alpha


def int8_codes(x):
    """Per-token absmax INT8: codes in [-128, 127], scale max|x| / 127."""
    g = x.abs().amax(dim=-1, keepdim=True)
    return torch.clamp(torch.round(127.0 * x / (g + EPS)), -128, 127), g / 127.0


def int4_codes(x):
    """Per-token absmean INT4: codes in [-8, 7], scale mean|x| / sqrt(7)."""
    b = x.abs().mean(dim=-1, keepdim=True)
    return torch.clamp(torch.round(SQRT7 * x / (b + EPS)), -8, 7), b / SQRT7


def top_half_mask(x):
    """1 for the n/2 channels of largest |x| per token (ties toward the lower channel index), else 0."""
    n = x.shape[-1]
    order = torch.sort(x.abs(), dim=-1, descending=True, stable=True).indices[..., : n // 2]
    return torch.zeros_like(x).scatter_(-1, order, 1.0)


# Activation quantizers by name, as in the scheme table of docs/model-format.md.
def activation_codes(x, kind):
    if kind == 'int8':
        return int8_codes(x)
    if kind == 'int4':
        return int4_codes(x)
    if kind == 'int8_top50':
        q, s = int8_codes(x)
        return q * top_half_mask(x), s
    raise ValueError(f'unknown activation quantizer {kind!r}')


def ste(x, xq):
    """Forward xq, backward identity to x."""
    return x + (xq - x).detach()


def fake_quant_activation(x, kind):
    if kind is None:
        return x
    x = x.float()
    q, s = activation_codes(x, kind)
    return ste(x, q * s)


def fake_quant_weight(w):
    q, alpha = weight_codes(w)
    return ste(w, q * alpha)


def sylvester(n):
    """Unnormalised Sylvester Hadamard matrix of order n = 2^m."""
    if n < 1 or n & (n - 1):
        raise ValueError(f'Hadamard order {n} is not a power of two')
    h = torch.ones(1, 1)
    while h.shape[0] < n:
        h = torch.cat([torch.cat([h, h], 1), torch.cat([h, -h], 1)], 0)
    return h


def kron_factors(n):
    """(a, b) with a * b = n, both powers of two <= 64, a >= b: H_n = H_a (x) H_b for Sylvester matrices."""
    m = n.bit_length() - 1
    if n < 1 or n & (n - 1) or m > 12:
        raise ValueError(f'Hadamard width {n} must be a power of two <= 4096')
    a = 1 << ((m + 1) // 2)
    return a, n // a


class Hadamard(torch.nn.Module):
    """Orthonormal Sylvester Hadamard transform over the last dimension, as H_a (x) H_b.

    x viewed as [..., a, b] -> H_a X H_b / sqrt(n): two small matmuls instead of an n x n one.
    Symmetric and orthonormal, so autograd's backward is the same transform.
    """

    def __init__(self, n):
        super().__init__()
        a, b = kron_factors(n)
        self.n, self.a, self.b = n, a, b
        self.register_buffer('ha', sylvester(a) / math.sqrt(a), persistent=False)
        self.register_buffer('hb', sylvester(b) / math.sqrt(b), persistent=False)

    def forward(self, x):
        shape = x.shape
        with torch.autocast(device_type=x.device.type, enabled=False):  # fp32: it feeds the quantizer
            y = x.float().reshape(*shape[:-1], self.a, self.b)
            y = torch.matmul(torch.matmul(self.ha, y), self.hb)
        return y.reshape(shape)
