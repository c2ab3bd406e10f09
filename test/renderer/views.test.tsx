// @vitest-environment jsdom
// The main views rendered with React against an in-memory host: chat (send, streaming, stats,
// refused request keeps the draft), inspector (site cards, before/after Hadamard, outliers) and
// the sparsity summary.
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BitLensError } from '../../contract/index.js';
import type { StepStats, TapFrame } from '../../engine/common/api.js';
import { App } from '../../renderer/src/App.js';
import { FakeHost, INFO } from './fakeHost.js';

beforeAll(() => {
  // jsdom has no canvas or ResizeObserver: canvases stay blank, charts get a fixed size.
  HTMLCanvasElement.prototype.getContext = (() => null) as typeof HTMLCanvasElement.prototype.getContext;
  globalThis.ResizeObserver ??= class {
    observe() {}
    unobserve() {}
    disconnect() {}
  } as unknown as typeof ResizeObserver;
});
afterEach(() => {
  cleanup();
  localStorage.clear();
});

const STATS: StepStats = {
  phase: 'decode', promptTokens: 4, generatedTokens: 2, timeToFirstTokenMs: 12, prefillTokensPerSec: 100,
  decodeTokensPerSec: 50, rssBytes: 100 * 2 ** 20, kvCacheBytes: 4096, kvCacheBytesFp16: 16384,
};

/** One layer, hidden 8, ffn 16; channel 3 of the W_down input before the Hadamard transform is an outlier. */
function frame(position: number): TapFrame {
  const v = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));
  const wave = (i: number) => Math.sin(i * 1.7 + position) + 0.1;
  return {
    position,
    tokenId: 65,
    layers: [{
      qkv: v(8, wave), o: v(8, wave), gateup: v(8, wave), down: v(16, wave),
      oPreHadamard: v(8, wave), downPreHadamard: v(16, (i) => (i === 3 ? 40 : i % 4 === 0 ? 0 : wave(i))),
    }],
  };
}

async function startChat(host: FakeHost) {
  render(<App host={host} />);
  await screen.findByText(/fake · v2-a4 · KV 16 · (cpu|webgpu)/);
  fireEvent.click(screen.getByRole('button', { name: '+ New chat' }));
  await waitFor(() => expect(host.conversations).toHaveLength(1));
  const box = screen.getByRole('textbox', { name: 'Message' });
  fireEvent.change(box, { target: { value: 'What is 1.58 bits?' } });
  fireEvent.keyDown(box, { key: 'Enter' });
  await screen.findByText('What is 1.58 bits?', { selector: '.message-user .text' });
  return box as HTMLTextAreaElement;
}

describe('chat view', () => {
  it('sends, streams tokens, shows the stored answer with its stats, and clears the composer', async () => {
    const host = new FakeHost();
    const box = await startChat(host);
    expect(host.calls.find((c) => c.name === 'chat.send')?.params).toEqual({ conversationId: 'c1', text: 'What is 1.58 bits?' });
    expect(box.value).toBe('');
    act(() => host.emit('generation.tokens', { conversationId: 'c1', messageId: 'a1', tokens: [{ position: 4, tokenId: 1, text: 'Log2' }, { position: 5, tokenId: 2, text: '(3)' }], stats: STATS, taps: frame(5) }));
    const answer = await screen.findByTestId('assistant-text');
    expect(answer.textContent).toContain('Log2(3)');
    expect(screen.getByRole('button', { name: 'Stop' })).toBeTruthy();
    act(() =>
      host.emit('generation.done', {
        conversationId: 'c1', messageId: 'a1', finishReason: 'eos',
        message: {
          id: 'a1', role: 'assistant', content: 'Log2(3)', createdAt: '', finishReason: 'eos',
          tokens: [{ position: 4, tokenId: 1, text: 'Log2' }, { position: 5, tokenId: 2, text: '(3)' }],
          stats: { modelId: 'm1', modelName: 'fake', scheme: 'v2-a4', kvBits: 16, device: 'cpu', promptTokens: 4, generatedTokens: 2, tokensPerSec: 50, prefillTokensPerSec: 100, timeToFirstTokenMs: 12, totalMs: 52 },
        },
      }),
    );
    expect((await screen.findByTestId('message-stats')).textContent).toBe('fake · v2-a4 · KV 16 · cpu · 50.0 tok/s · TTFT 12 ms · 2 tokens · eos');
    expect(screen.queryByRole('button', { name: 'Stop' })).toBeNull();
  });

  it('keeps the typed prompt and shows the reason when the host refuses to send', async () => {
    const host = new FakeHost();
    host.refuse['chat.send'] = new BitLensError('engine_unavailable', 'the engine crashed while loading');
    render(<App host={host} />);
    await screen.findByText(/fake · v2-a4/);
    const box = screen.getByRole('textbox', { name: 'Message' }) as HTMLTextAreaElement;
    fireEvent.change(box, { target: { value: 'do not lose me' } });
    fireEvent.keyDown(box, { key: 'Enter' });
    expect((await screen.findByRole('alert')).textContent).toContain('the engine crashed while loading');
    expect(box.value).toBe('do not lose me');
    // ...and it survives a reload (the draft moved to the conversation created for it).
    cleanup();
    delete host.refuse['chat.send'];
    render(<App host={host} />);
    await waitFor(() => expect((screen.getByRole('textbox', { name: 'Message' }) as HTMLTextAreaElement).value).toBe('do not lose me'));
    fireEvent.keyDown(screen.getByRole('textbox', { name: 'Message' }), { key: 'Enter' });
    await waitFor(() => expect((screen.getByRole('textbox', { name: 'Message' }) as HTMLTextAreaElement).value).toBe(''));
    expect(Object.keys(localStorage).filter((k) => k.startsWith('bitlens.draft.'))).toEqual([]);
  });

  it('reports an engine crash from engine.status as a banner', async () => {
    const host = new FakeHost();
    render(<App host={host} />);
    await screen.findByText(/fake · v2-a4/);
    act(() => host.emit('engine.status', { ...host.status, state: 'crashed', error: 'out of memory', info: undefined }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/engine crashed: out of memory/);
  });
});

describe('inspector', () => {
  it('shows every site with before/after Hadamard panels, stats and the outlier channel', async () => {
    const host = new FakeHost();
    await startChat(host);
    act(() => host.emit('generation.tokens', { conversationId: 'c1', messageId: 'a1', tokens: [{ position: 4, tokenId: 1, text: 'x' }], stats: STATS, taps: frame(4) }));
    const down = await screen.findByTestId('site-down');
    expect(within(down).getAllByRole('figure').map((f) => f.querySelector('figcaption')?.textContent)).toEqual(['before Hadamard', 'after Hadamard (quantized)']);
    expect(screen.getByTestId('site-qkv').querySelectorAll('figure')).toHaveLength(1);
    // absmax before the transform is the planted outlier.
    const absmaxRow = within(down).getByText('absmax').closest('tr')!;
    expect(absmaxRow.querySelectorAll('td')[0].textContent).toBe('40.000');
    expect(screen.getByTestId('inspector-token').textContent).toBe('Live token #4');
    // Outliers of the W_down input: channel 3 ranks first before the transform.
    await waitFor(() => expect(screen.getByTestId('outliers').querySelectorAll('.outlier-col')).toHaveLength(2));
    fireEvent.change(within(screen.getByTestId('outliers')).getByRole('combobox'), { target: { value: 'down' } });
    const before = screen.getByTestId('outliers').querySelector('[data-variant=pre] tbody tr')!;
    expect(Array.from(before.querySelectorAll('td')).map((td) => td.textContent)[0]).toBe('3');
  });
});

describe('sparsity view', () => {
  it('summarises activation sparsity against the a4.8 table and zero ternary weights', async () => {
    const host = new FakeHost();
    await startChat(host);
    act(() => host.emit('generation.tokens', { conversationId: 'c1', messageId: 'a1', tokens: [{ position: 4, tokenId: 1, text: 'x' }], stats: STATS, taps: frame(4) }));
    fireEvent.click(screen.getByRole('tab', { name: 'Sparsity' }));
    const summary = await screen.findByTestId('sparsity-summary', {}, { timeout: 3000 });
    expect(summary.textContent).toMatch(/overall activation sparsity [\d.]+% \(a4\.8 7B: 44\.5%, b1\.58 7B: 7\.3%\)/);
    expect(summary.textContent).toContain('zero ternary weights 25.0%');
  });
});

describe('memory view', () => {
  const CONFIG = { hidden_size: 8, intermediate_size: 16, num_heads: 2, num_kv_heads: 1, num_layers: 1, vocab_size: 260 };

  it('shows the activations computed from the shapes beside the KV cache, and no GPU figure it does not have', async () => {
    const host = new FakeHost();
    host.status = { ...host.status, info: { ...INFO, config: CONFIG, device: 'webgpu' }, device: 'webgpu' };
    await startChat(host);
    act(() => host.emit('generation.tokens', { conversationId: 'c1', messageId: 'a1', tokens: [{ position: 4, tokenId: 1, text: 'x' }], stats: STATS, taps: frame(4) }));
    fireEvent.click(screen.getByRole('tab', { name: 'Memory' }));
    const table = await screen.findByTestId('activation-memory', {}, { timeout: 3000 });
    // Decode step at context 6 (4 prompt + 2 generated) and prefill of the 4 prompt tokens; the
    // logits (260 x 4 B) dominate both at this size.
    const row = (name: RegExp) => Array.from(within(table).getByText(name).closest('tr')!.querySelectorAll('td')).map((td) => td.textContent);
    expect(row(/^attention scores/)).toEqual(['48 B', '128 B']);
    expect(row(/^FFN/)).toEqual(['192 B', '768 B']);
    expect(row(/^peak/)).toEqual([`${((32 + 1040) / 1024).toFixed(1)} KiB`, `${((128 + 1040) / 1024).toFixed(1)} KiB`]);
    expect(table.textContent).toContain('Computed from the graph\'s shapes');
    expect(screen.getByRole('img', { name: /KV cache and decode-step activations/ }).getAttribute('aria-label')).toContain('activations, decode step (computed)');
    expect(screen.getByTestId('gpu-memory-note').textContent).toContain('GPU memory (webgpu): not reported by onnxruntime-node');
  });

  it('on the CPU says nothing about GPU memory, and names a config key it cannot size', async () => {
    const host = new FakeHost();
    host.status = { ...host.status, info: { ...INFO, config: { ...CONFIG, num_heads: 'eight' } } };
    await startChat(host);
    act(() => host.emit('generation.tokens', { conversationId: 'c1', messageId: 'a1', tokens: [{ position: 4, tokenId: 1, text: 'x' }], stats: STATS }));
    fireEvent.click(screen.getByRole('tab', { name: 'Memory' }));
    expect((await screen.findByTestId('activation-memory-error')).textContent).toBe('Activation memory not computed: config.json: num_heads must be a positive integer, not "eight"');
    expect(screen.queryByTestId('gpu-memory-note')).toBeNull();
    expect(screen.queryByTestId('activation-memory')).toBeNull();
  });
});

describe('add model form', () => {
  it('shows the import progress while models.add is in flight and removes it when the add resolves', async () => {
    const host = new FakeHost();
    let finish!: () => void;
    host.hold['models.add'] = new Promise<void>((resolve) => (finish = resolve));
    render(<App host={host} />);
    const input = await screen.findByRole('textbox', { name: 'Add model folder' });
    fireEvent.change(input, { target: { value: '/models/hf' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add' }));
    const bar = await screen.findByRole('progressbar', { name: 'Importing model' });
    expect((bar as HTMLProgressElement).value).toBe(0);
    act(() => host.emit('models.importProgress', { source: '/models/hf', fraction: 0.42, stage: 'writing layers.0.o' }));
    expect((bar as HTMLProgressElement).value).toBeCloseTo(0.42);
    expect(bar.getAttribute('aria-valuetext')).toBe('42%');
    // Progress of another add (another window) is not shown here.
    act(() => host.emit('models.importProgress', { source: '/elsewhere', fraction: 0.9 }));
    expect((bar as HTMLProgressElement).value).toBeCloseTo(0.42);
    await act(async () => finish());
    await screen.findByText(/Added model "added"/);
    expect(screen.queryByRole('progressbar')).toBeNull();
  });

  it('removes the progress bar when the add fails, and shows the reason', async () => {
    const host = new FakeHost();
    host.refuse['models.add'] = new BitLensError('invalid_model', '/models/bad: config.json missing');
    render(<App host={host} />);
    const input = await screen.findByRole('textbox', { name: 'Add model folder' });
    fireEvent.change(input, { target: { value: '/models/bad' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add' }));
    await screen.findByText(/config\.json missing/);
    expect(screen.queryByRole('progressbar')).toBeNull();
  });
});
