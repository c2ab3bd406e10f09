// Memory: packed ternary weights vs fp16, KV cache at the chosen bits vs fp16 and the activations
// (computed from the graph's shapes) as the context grows, process memory and tokens/s over time.
import { memo, useMemo } from 'react';
import type { ModelInfoPayload } from '../../../contract/index.js';
import type { StatsPoint } from '../data/series.js';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { CanvasLines } from './CanvasLines.js';
import { useAppState } from '../app/context.js';
import { usePalette } from '../app/ThemeContext.js';
import { useThrottled } from '../app/useThrottled.js';
import { activationBytes, modelShape, type ActivationBytes, type ModelShape } from '../data/activationMemory.js';
import { downsample } from '../data/series.js';
import { ChartCard } from './ChartCard.js';

const MiB = 1024 * 1024;
const mib = (v: number) => `${Number(v).toFixed(v < 10 ? 2 : 1)} MiB`;
/** Activations of small models are a few KiB: bytes in the unit that reads best. */
const size = (b: number) => (b < 1024 ? `${b} B` : b < MiB ? `${(b / 1024).toFixed(1)} KiB` : mib(b / MiB));
const MAX_POINTS = 400;
const mibTick = (v: number) => (v === 0 ? '0' : v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toPrecision(2));
const secTick = (v: number) => `${v < 10 ? v.toFixed(1) : v.toFixed(0)} s`;

export function MemoryView() {
  // Four updates a second are plenty for graphs over time; the charts below re-render only when
  // the throttled value changes, not on every token.
  const history = useThrottled(useAppState((s) => s.statsHistory), 250);
  const info = useAppState((s) => s.engine?.info);
  return <MemoryCharts history={history} info={info} />;
}

const MemoryCharts = memo(function MemoryCharts({ history, info }: { history: StatsPoint[]; info: ModelInfoPayload | undefined }) {
  const c = usePalette();
  const kvBits = info?.run.kvBits;

  const { kv, time } = useMemo(() => {
    const lastRun = history.at(-1)?.run;
    const kvPoints = history.filter((p) => p.run === lastRun);
    return { kv: downsample(kvPoints, MAX_POINTS), time: downsample(history, MAX_POINTS) };
  }, [history]);

  // onnxruntime-node reports no tensor or arena sizes: the activations are sized from config.json.
  const { shape, shapeError } = useMemo((): { shape?: ModelShape; shapeError?: string } => {
    if (!info) return {};
    try {
      return { shape: modelShape(info.config) };
    } catch (e) {
      return { shapeError: (e as Error).message };
    }
  }, [info]);
  const activations = useMemo(() => {
    if (!shape || !kv.length) return null;
    const last = kv.at(-1)!;
    return {
      // A decode step feeds one token and attends to the whole context.
      curve: kv.map((p) => activationBytes(shape, 1, Math.max(1, p.context)).peak / MiB),
      decode: activationBytes(shape, 1, Math.max(1, last.context)),
      prefill: activationBytes(shape, Math.max(1, last.promptTokens), Math.max(1, last.promptTokens)),
      context: last.context,
      prompt: last.promptTokens,
    };
  }, [shape, kv]);

  return (
    <section className="graphs" aria-label="Memory" data-testid="memory-view">
      {info ? (
        <p className="summary" data-testid="memory-summary">
          Weights {mib(info.weightBytesPacked / MiB)} packed vs {mib(info.weightBytesFp16 / MiB)} in fp16 (
          {(info.weightBytesFp16 / Math.max(1, info.weightBytesPacked)).toFixed(1)}× smaller); KV cache at {kvBits} bits
          {kv.length ? `: ${mib(kv.at(-1)!.kvMiB)} for ${kv.at(-1)!.context} tokens vs ${mib(kv.at(-1)!.kvFp16MiB)} in fp16` : ''}.
        </p>
      ) : (
        <p className="empty">Load a model to see its memory use.</p>
      )}
      {info && info.device !== 'cpu' && (
        <p className="muted" data-testid="gpu-memory-note">
          GPU memory ({info.device}): not reported by onnxruntime-node, so not shown; the process memory below is the engine's host memory only.
        </p>
      )}
      {shapeError && (
        <p className="muted" data-testid="activation-memory-error">Activation memory not computed: {shapeError}</p>
      )}
      {info && <WeightsChart packed={info.weightBytesPacked} fp16={info.weightBytesFp16} />}
      {kv.length > 0 && (
        <ChartCard
          title={`KV cache (${kvBits} bits vs fp16) and activations (MiB) vs context`}
          file="kv-cache"
          note={activations ? 'Activations: peak of one decode step, computed from the graph\'s shapes (float32), not measured.' : undefined}
        >
          <CanvasLines
            label="KV cache and decode-step activations in MiB against tokens in context"
            xs={kv.map((p) => p.context)}
            series={[
              { name: `KV ${kvBits}-bit`, color: c.series[0], values: kv.map((p) => p.kvMiB) },
              { name: 'KV fp16', color: c.series[1], values: kv.map((p) => p.kvFp16MiB), dashed: true },
              ...(activations ? [{ name: 'activations, decode step (computed)', color: c.series[4 % c.series.length], values: activations.curve }] : []),
            ]}
            formatX={(v) => `${Math.round(v)} tok`}
            formatY={mibTick}
          />
        </ChartCard>
      )}
      {activations && <ActivationTable a={activations} />}
      {time.length > 0 && (
        <ChartCard title="Engine process memory (RSS, MiB) over time" file="rss">
          <CanvasLines
            label="Engine RSS in MiB over seconds"
            xs={time.map((p) => p.t)}
            series={[{ name: 'RSS', color: c.series[2], values: time.map((p) => p.rssMiB) }]}
            formatX={secTick}
            formatY={mibTick}
            zeroBased={false}
          />
        </ChartCard>
      )}
      {time.length > 0 && (
        <ChartCard title="Tokens per second over time" file="tokens-per-sec">
          <CanvasLines
            label="Tokens per second over seconds"
            xs={time.map((p) => p.t)}
            series={[{ name: 'tokens/s', color: c.series[3], values: time.map((p) => p.tokensPerSec) }]}
            formatX={secTick}
            formatY={(v) => v.toFixed(0)}
          />
        </ChartCard>
      )}
    </section>
  );
});

// Fixed for a loaded model: a recharts render only when the model changes, not at every refresh.
const WeightsChart = memo(function WeightsChart({ packed, fp16 }: { packed: number; fp16: number }) {
  const c = usePalette();
  const data = [
    { name: 'packed (as loaded)', MiB: packed / MiB },
    { name: 'fp16', MiB: fp16 / MiB },
  ];
  const axis = { stroke: c.muted, tick: { fill: c.muted, fontSize: 11 } };
  return (
    <ChartCard title="Weights: packed vs fp16" file="weights-memory">
      <ResponsiveContainer width="100%" height={140}>
        <BarChart data={data} layout="vertical" margin={{ top: 4, right: 16, left: 8, bottom: 0 }}>
          <CartesianGrid stroke={c.grid} horizontal={false} />
          <XAxis type="number" {...axis} tickFormatter={(v) => Number(v).toPrecision(2)} unit=" MiB" />
          <YAxis type="category" dataKey="name" {...axis} width={110} />
          <Tooltip formatter={(v) => mib(Number(v))} />
          <Bar dataKey="MiB" fill={c.series[0]} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </ChartCard>
  );
});

const BUFFERS: { key: keyof ActivationBytes; label: string }[] = [
  { key: 'residual', label: 'residual stream (T × hidden)' },
  { key: 'qkv', label: 'Q, K, V (T × (heads + 2 kv heads) × head_dim)' },
  { key: 'scores', label: 'attention scores (heads × T × context)' },
  { key: 'ffn', label: 'FFN gate, up, W_down input (3 × T × intermediate)' },
  { key: 'logits', label: 'logits (last token × vocab)' },
  { key: 'peak', label: 'peak: residual + largest of attention, FFN, logits' },
];

function ActivationTable({ a }: { a: { decode: ActivationBytes; prefill: ActivationBytes; context: number; prompt: number } }) {
  return (
    <section className="card" aria-label="Activation memory" data-testid="activation-memory">
      <header>
        <h3>Activations per step: largest live float32 buffers of one layer</h3>
      </header>
      <table className="stats-table">
        <thead>
          <tr>
            <th scope="col" className="label-col">buffer</th>
            <th scope="col">decode step (T = 1, context {a.context})</th>
            <th scope="col">prefill (T = {a.prompt})</th>
          </tr>
        </thead>
        <tbody>
          {BUFFERS.map((b) => (
            <tr key={b.key}>
              <th scope="row">{b.label}</th>
              <td>{size(a.decode[b.key])}</td>
              <td>{size(a.prefill[b.key])}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted chart-note">
        Computed from the graph's shapes (config.json, float32), not measured: onnxruntime-node does not report activation sizes. Layers run one after
        another, so one layer bounds a step; ORT's arena may hold more.
      </p>
    </section>
  );
}
