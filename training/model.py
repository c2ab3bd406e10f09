"""A LLaMA-like BitNet transformer for training: ternary BitLinear projections, SubLN, optional
H-BitLinear (Hadamard before quantization) at W_o and W_down, RoPE, GQA, SwiGLU or ReLU^2 GLU.

Forward pass and schemes as docs/model-format.md; quantizers from quant.py (fp32 arithmetic).
"""
import dataclasses
import math

import torch
import torch.nn.functional as F

from . import quant

# Activation quantizer per site, and whether the Hadamard transform sits before W_o and W_down.
SCHEMES = {
    'fp': dict(qkv=None, o=None, gateup=None, down=None, hadamard=False),
    'b1.58': dict(qkv='int8', o='int8', gateup='int8', down='int8', hadamard=False),
    'a4.8': dict(qkv='int4', o='int8_top50', gateup='int4', down='int8', hadamard=False),
    'v2-a8': dict(qkv='int8', o='int8', gateup='int8', down='int8', hadamard=True),
    'v2-a4': dict(qkv='int4', o='int4', gateup='int4', down='int4', hadamard=True),
    # Ablation only (the engine has no such scheme): v2-a4 without the Hadamard transform.
    'a4-noh': dict(qkv='int4', o='int4', gateup='int4', down='int4', hadamard=False),
}
# The W1.58A8 scheme each final scheme is trained with before switching (the papers' recipe).
A8_STAGE = {'fp': 'fp', 'b1.58': 'b1.58', 'a4.8': 'b1.58', 'v2-a8': 'v2-a8', 'v2-a4': 'v2-a8', 'a4-noh': 'b1.58'}
EXPORTABLE = ('fp', 'b1.58', 'a4.8', 'v2-a8', 'v2-a4')


@dataclasses.dataclass
class ModelConfig:
    vocab_size: int = 4096
    hidden_size: int = 512
    num_layers: int = 8
    num_heads: int = 8
    num_kv_heads: int = 4
    intermediate_size: int = 1024
    activation: str = 'swiglu'
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    max_position_embeddings: int = 512
    scheme: str = 'v2-a4'

    def validate(self):
        if self.scheme not in SCHEMES:
            raise ValueError(f'unknown scheme {self.scheme!r}')
        if self.activation not in ('swiglu', 'relu2glu'):
            raise ValueError(f'unknown activation {self.activation!r}')
        if self.hidden_size % self.num_heads or self.num_heads % self.num_kv_heads:
            raise ValueError('hidden_size must divide by num_heads, num_heads by num_kv_heads')
        for n in (self.hidden_size, self.intermediate_size):
            if n % 16:
                raise ValueError(f'width {n} must be a multiple of 16 (packed 2-bit kernel)')

    @property
    def head_dim(self):
        return self.hidden_size // self.num_heads


def rms_norm(x, weight, eps):
    x = x.float()
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


class RMSNorm(torch.nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return rms_norm(x, self.weight, self.eps)


class BitLinear(torch.nn.Module):
    """y = Q_act(x) . Q_w(W)^T with straight-through estimators; `act` names the quantizer (None = fp)."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.empty(n_out, n_in))
        torch.nn.init.normal_(self.weight, std=n_in ** -0.5)

    def forward(self, x, act):
        return F.linear(quant.fake_quant_activation(x, act), quant.fake_quant_weight(self.weight))


def rope_tables(head_dim, theta, positions):
    inv_freq = theta ** (-torch.arange(0, head_dim, 2, dtype=torch.float32, device=positions.device) / head_dim)
    ang = positions.float()[:, None] * inv_freq[None, :]
    return torch.cos(ang), torch.sin(ang)


def apply_rope(x, cos, sin):
    """Rotate-half RoPE on x [batch, heads, seq, head_dim]."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


def causal_attention(q, k, v):
    """softmax(q k^T / sqrt(d) + causal) v; q [B,H,T,D], k/v already expanded to H heads."""
    if hasattr(F, 'scaled_dot_product_attention'):  # torch >= 2.0
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    t = q.shape[-2]
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    mask = torch.ones(t, t, dtype=torch.bool, device=q.device).triu(1)
    return torch.matmul(torch.softmax(scores.masked_fill(mask, float('-inf')), dim=-1), v)


class Block(torch.nn.Module):
    def __init__(self, cfg, model):
        super().__init__()
        d, hd = cfg.hidden_size, cfg.head_dim
        self.cfg, self._model = cfg, [model]  # list: no submodule registration
        self.input_layernorm = RMSNorm(d, cfg.rms_norm_eps)
        self.q_proj = BitLinear(d, cfg.num_heads * hd)
        self.k_proj = BitLinear(d, cfg.num_kv_heads * hd)
        self.v_proj = BitLinear(d, cfg.num_kv_heads * hd)
        self.attn_sub_norm = RMSNorm(cfg.num_heads * hd, cfg.rms_norm_eps)
        self.o_proj = BitLinear(cfg.num_heads * hd, d)
        self.post_attention_layernorm = RMSNorm(d, cfg.rms_norm_eps)
        self.gate_proj = BitLinear(d, cfg.intermediate_size)
        self.up_proj = BitLinear(d, cfg.intermediate_size)
        self.ffn_sub_norm = RMSNorm(cfg.intermediate_size, cfg.rms_norm_eps)
        self.down_proj = BitLinear(cfg.intermediate_size, d)

    def forward(self, h, cos, sin):
        cfg, sites, had_o, had_down = self.cfg, self._model[0].sites, self._model[0].had_o, self._model[0].had_down
        b, t, _ = h.shape
        x = self.input_layernorm(h)
        q = self.q_proj(x, sites['qkv']).view(b, t, cfg.num_heads, cfg.head_dim).transpose(1, 2)
        k = self.k_proj(x, sites['qkv']).view(b, t, cfg.num_kv_heads, cfg.head_dim).transpose(1, 2)
        v = self.v_proj(x, sites['qkv']).view(b, t, cfg.num_kv_heads, cfg.head_dim).transpose(1, 2)
        q, k = apply_rope(q, cos, sin).to(v.dtype), apply_rope(k, cos, sin).to(v.dtype)
        rep = cfg.num_heads // cfg.num_kv_heads
        if rep > 1:
            k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        a = causal_attention(q, k, v).transpose(1, 2).reshape(b, t, cfg.hidden_size)
        a = self.attn_sub_norm(a)
        if had_o is not None:
            a = had_o(a)
        h = h + self.o_proj(a, sites['o'])
        x = self.post_attention_layernorm(h)
        g, u = self.gate_proj(x, sites['gateup']), self.up_proj(x, sites['gateup'])
        m = (F.silu(g) if cfg.activation == 'swiglu' else F.relu(g).square()) * u
        m = self.ffn_sub_norm(m)
        if had_down is not None:
            m = had_down(m)
        return h + self.down_proj(m, sites['down'])


class BitNetLM(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        self.embed_tokens = torch.nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        torch.nn.init.normal_(self.embed_tokens.weight, std=0.02)
        self.layers = torch.nn.ModuleList(Block(cfg, self) for _ in range(cfg.num_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        hadamard = SCHEMES[cfg.scheme]['hadamard']
        self.had_o = quant.Hadamard(cfg.num_heads * cfg.head_dim) if hadamard else None
        self.had_down = quant.Hadamard(cfg.intermediate_size) if hadamard else None
        self.set_scheme(A8_STAGE[cfg.scheme])

    def set_scheme(self, scheme):
        """Activation quantizers of `scheme` (the Hadamard transform is fixed by the model's scheme)."""
        s = SCHEMES[scheme]
        if s['hadamard'] != SCHEMES[self.cfg.scheme]['hadamard']:
            raise ValueError(f'scheme {scheme} does not match the architecture of {self.cfg.scheme}')
        self.active_scheme = scheme
        self.sites = {k: s[k] for k in ('qkv', 'o', 'gateup', 'down')}

    def forward(self, ids):
        t = ids.shape[1]
        cos, sin = rope_tables(self.cfg.head_dim, self.cfg.rope_theta, torch.arange(t, device=ids.device))
        h = self.embed_tokens(ids).float()
        for layer in self.layers:
            h = layer(h, cos, sin)
        return F.linear(self.norm(h), self.embed_tokens.weight)
