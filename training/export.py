"""Export a trained model to the BitLens format (docs/model-format.md) and write golden.json.

golden.json holds, for fixed prompts, the last-position logits and 16 greedy ids computed in fp32 on
the CPU by `reference_logits` from the EXPORTED files (unpacked ternary codes, alpha, F16
embeddings), with the engine's arithmetic: y = (x_q . w^T) * activation_scale * alpha.
"""
import json
import os
import shutil

import numpy as np
import torch

from . import quant, safetensors_io
from .bpe import Tokenizer
from .model import EXPORTABLE, SCHEMES, apply_rope, rope_tables

PROJECTIONS = [('self_attn', 'q_proj'), ('self_attn', 'k_proj'), ('self_attn', 'v_proj'), ('self_attn', 'o_proj'),
               ('mlp', 'gate_proj'), ('mlp', 'up_proj'), ('mlp', 'down_proj')]
GOLDEN_PROMPTS = ['The meaning of life is', 'Once upon a time, there was a', 'The President said that']
GOLDEN_STEPS = 16


def pack_ternary(codes):
    """Ternary codes [out, in] in {-1,0,1} -> U8 [out, in/4]: code w+1, weight (r, c) at bits 2*(c&3) of byte (r, c>>2)."""
    c = np.asarray(codes, dtype=np.int64) + 1
    if c.ndim != 2 or c.shape[1] % 4:
        raise ValueError(f'packed weight needs [out, in] with in % 4 == 0, got {c.shape}')
    if c.min() < 0 or c.max() > 2:
        raise ValueError('ternary codes must be -1, 0 or 1')
    c = c.reshape(c.shape[0], -1, 4)
    return (c[..., 0] | c[..., 1] << 2 | c[..., 2] << 4 | c[..., 3] << 6).astype(np.uint8)


def unpack_ternary(packed):
    p = np.asarray(packed, dtype=np.uint8).astype(np.int64)
    codes = np.stack([(p >> (2 * j)) & 3 for j in range(4)], axis=-1).reshape(p.shape[0], -1)
    if (codes == 3).any():
        raise ValueError('packed ternary weight holds the invalid code 3')
    return codes - 1


def config_dict(cfg, scheme, bos_id, eos_id, name, description):
    return {
        'format': 'bitlens', 'format_version': 1, 'name': name, 'description': description,
        'vocab_size': cfg.vocab_size, 'hidden_size': cfg.hidden_size, 'num_layers': cfg.num_layers,
        'num_heads': cfg.num_heads, 'num_kv_heads': cfg.num_kv_heads, 'intermediate_size': cfg.intermediate_size,
        'activation': cfg.activation, 'rms_norm_eps': cfg.rms_norm_eps, 'rope_theta': cfg.rope_theta,
        'max_position_embeddings': cfg.max_position_embeddings, 'tie_word_embeddings': True, 'subln': True,
        'scheme': scheme, 'bos_token_id': bos_id, 'eos_token_id': eos_id,
    }


def export_model(model, tokenizer_dir, out_dir, name, description, prompts=GOLDEN_PROMPTS):
    """Write config.json, model.safetensors, tokenizer files and golden.json for `model` (a BitNetLM)."""
    cfg = model.cfg
    if cfg.scheme not in EXPORTABLE:
        raise ValueError(f'scheme {cfg.scheme!r} has no engine counterpart and cannot be exported')
    os.makedirs(out_dir, exist_ok=True)
    tok = Tokenizer(os.path.join(tokenizer_dir, 'tokenizer.json'))
    if len(tok) != cfg.vocab_size:
        raise ValueError(f'tokenizer has {len(tok)} tokens, model vocab_size is {cfg.vocab_size}')
    sd = {k: v.detach().float().cpu() for k, v in model.state_dict().items()}
    tensors = {'model.embed_tokens.weight': sd['embed_tokens.weight'].numpy().astype(np.float16)}
    for i in range(cfg.num_layers):
        p = f'layers.{i}.'
        out = f'model.layers.{i}.'
        tensors[out + 'input_layernorm.weight'] = sd[p + 'input_layernorm.weight'].numpy()
        tensors[out + 'self_attn.attn_sub_norm.weight'] = sd[p + 'attn_sub_norm.weight'].numpy()
        tensors[out + 'post_attention_layernorm.weight'] = sd[p + 'post_attention_layernorm.weight'].numpy()
        tensors[out + 'mlp.ffn_sub_norm.weight'] = sd[p + 'ffn_sub_norm.weight'].numpy()
        for group, proj in PROJECTIONS:
            codes, alpha = quant.weight_codes(sd[p + proj + '.weight'])
            tensors[f'{out}{group}.{proj}.weight'] = pack_ternary(codes.numpy())
            tensors[f'{out}{group}.{proj}.weight_scale'] = np.array([alpha.item()], dtype=np.float32)
    tensors['model.norm.weight'] = sd['norm.weight'].numpy()
    safetensors_io.write(os.path.join(out_dir, 'model.safetensors'), tensors, {'format': 'pt'})
    config = config_dict(cfg, cfg.scheme, tok.bos_id, tok.eos_id, name, description)
    with open(os.path.join(out_dir, 'config.json'), 'w') as f:
        json.dump(config, f, indent=2)
    for fname in ('tokenizer.json', 'tokenizer_config.json'):
        src = os.path.join(tokenizer_dir, fname)
        if os.path.abspath(src) != os.path.abspath(os.path.join(out_dir, fname)):
            shutil.copyfile(src, os.path.join(out_dir, fname))
    tc_path = os.path.join(out_dir, 'tokenizer_config.json')
    with open(tc_path) as f:
        tc = json.load(f)
    tc['model_max_length'] = cfg.max_position_embeddings
    with open(tc_path, 'w') as f:
        json.dump(tc, f, ensure_ascii=False, indent=1)
    write_golden(out_dir, prompts)
    return out_dir


class ReferenceModel:
    """fp32 CPU forward pass from an exported folder, with the engine's quantizer arithmetic."""

    def __init__(self, model_dir):
        with open(os.path.join(model_dir, 'config.json')) as f:
            self.config = json.load(f)
        c = self.config
        t = {k: torch.from_numpy(np.array(v)) for k, v in safetensors_io.read(os.path.join(model_dir, 'model.safetensors')).items()}
        self.embed = t['model.embed_tokens.weight'].float()
        self.norm = t['model.norm.weight'].float()
        self.layers = []
        for i in range(c['num_layers']):
            p = f'model.layers.{i}.'
            layer = {k: t[p + k].float() for k in ('input_layernorm.weight', 'self_attn.attn_sub_norm.weight',
                                                  'post_attention_layernorm.weight', 'mlp.ffn_sub_norm.weight')}
            for group, proj in PROJECTIONS:
                name = f'{group}.{proj}'
                layer[name] = (torch.from_numpy(unpack_ternary(t[p + name + '.weight'].numpy())).float(),
                               t[p + name + '.weight_scale'].float()[0])
            self.layers.append(layer)
        s = SCHEMES[c['scheme']]
        self.sites = {k: s[k] for k in ('qkv', 'o', 'gateup', 'down')}
        self.had_o = quant.Hadamard(c['hidden_size']) if s['hadamard'] else None
        self.had_down = quant.Hadamard(c['intermediate_size']) if s['hadamard'] else None

    def _rms(self, x, w):
        return x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + self.config['rms_norm_eps']) * w

    def _linear(self, x, weight, site):
        codes, alpha = weight
        kind = self.sites[site]
        if kind is None:
            return torch.matmul(x, codes.t()) * alpha
        q, s = quant.activation_codes(x, kind)
        return torch.matmul(q, codes.t()) * s * alpha

    @torch.no_grad()
    def logits(self, ids):
        """Logits [len(ids), vocab] for a token sequence (kv_bits 16)."""
        c = self.config
        nh, nkv = c['num_heads'], c['num_kv_heads']
        hd = c['hidden_size'] // nh
        t = len(ids)
        cos, sin = rope_tables(hd, c['rope_theta'], torch.arange(t))
        h = self.embed[torch.tensor(ids)]
        mask = torch.ones(t, t, dtype=torch.bool).triu(1)
        for L in self.layers:
            x = self._rms(h, L['input_layernorm.weight'])
            q = self._linear(x, L['self_attn.q_proj'], 'qkv').view(t, nh, hd).transpose(0, 1)
            k = self._linear(x, L['self_attn.k_proj'], 'qkv').view(t, nkv, hd).transpose(0, 1)
            v = self._linear(x, L['self_attn.v_proj'], 'qkv').view(t, nkv, hd).transpose(0, 1)
            q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
            k, v = k.repeat_interleave(nh // nkv, 0), v.repeat_interleave(nh // nkv, 0)
            scores = torch.matmul(q, k.transpose(-1, -2)) / np.sqrt(hd)
            a = torch.matmul(torch.softmax(scores.masked_fill(mask, float('-inf')), -1), v)
            a = self._rms(a.transpose(0, 1).reshape(t, nh * hd), L['self_attn.attn_sub_norm.weight'])
            if self.had_o is not None:
                a = self.had_o(a)
            h = h + self._linear(a, L['self_attn.o_proj'], 'o')
            x = self._rms(h, L['post_attention_layernorm.weight'])
            g = self._linear(x, L['mlp.gate_proj'], 'gateup')
            u = self._linear(x, L['mlp.up_proj'], 'gateup')
            m = (torch.nn.functional.silu(g) if c['activation'] == 'swiglu' else torch.relu(g).square()) * u
            m = self._rms(m, L['mlp.ffn_sub_norm.weight'])
            if self.had_down is not None:
                m = self.had_down(m)
            h = h + self._linear(m, L['mlp.down_proj'], 'down')
        return torch.matmul(self._rms(h, self.norm), self.embed.t())

    def greedy(self, ids, steps):
        ids, out = list(ids), []
        for _ in range(steps):
            nxt = int(torch.argmax(self.logits(ids)[-1]))
            out.append(nxt)
            ids.append(nxt)
        return out


def write_golden(model_dir, prompts=GOLDEN_PROMPTS, steps=GOLDEN_STEPS):
    ref = ReferenceModel(model_dir)
    tok = Tokenizer(os.path.join(model_dir, 'tokenizer.json'))
    cases = []
    for prompt in prompts:
        ids = tok.encode(prompt, add_bos=True)
        cases.append({'prompt': prompt, 'input_ids': ids,
                      'last_logits': [float(x) for x in ref.logits(ids)[-1]],
                      'greedy_ids': ref.greedy(ids, steps)})
    with open(os.path.join(model_dir, 'golden.json'), 'w') as f:
        json.dump({'scheme': ref.config['scheme'], 'kv_bits': 16, 'cases': cases}, f)
