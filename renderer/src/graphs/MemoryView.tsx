// Memory: packed ternary weights vs fp16, KV cache at the chosen bits vs fp16 as the context grows,
// process memory and tokens/s over time.
import { memo, useMemo } from 'react';
import type { ModelInfoPayload } from '../../../contract/index.js';
import type { StatsPoint } from '../data/series.js';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useAppState } from '../app/context.js';
import { usePalette } from '../app/ThemeContext.js';
import { useThrottled } from '../app/useThrottled.js';
import { downsample } from '../data/series.js';
import { ChartCard } from './ChartCard.js';

const MiB = 1024 * 1024;
const mib = (v: number) => `${Number(v).toFixed(v < 10 ? 2 : 1)} MiB`;
const MAX_POINTS = 150;

export function MemoryView() {
  // recharts re-renders cost tens of ms: once a second is enough for graphs over time, and the
  // charts below re-render only when the throttled value changes, not on every token.
  const history = useThrottled(useAppState((s) => s.statsHistory), 1000);
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

  const weights = info
    ? [
        { name: 'packed (as loaded)', MiB: info.weightBytesPacked / MiB },
        { name: 'fp16', MiB: info.weightBytesFp16 / MiB },
      ]
    : [];
  const axis = { stroke: c.muted, tick: { fill: c.muted, fontSize: 11 } };

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
      {info && (
        <ChartCard title="Weights: packed vs fp16" file="weights-memory">
          <ResponsiveContainer width="100%" height={140}>
            <BarChart data={weights} layout="vertical" margin={{ top: 4, right: 16, left: 8, bottom: 0 }}>
              <CartesianGrid stroke={c.grid} horizontal={false} />
              <XAxis type="number" {...axis} tickFormatter={(v) => Number(v).toPrecision(2)} unit=" MiB" />
              <YAxis type="category" dataKey="name" {...axis} width={110} />
              <Tooltip formatter={(v) => mib(Number(v))} />
              <Bar dataKey="MiB" fill={c.series[0]} isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </ChartCard>
      )}
      {kv.length > 0 && (
        <ChartCard title={`KV cache vs context (${kvBits} bits vs fp16)`} file="kv-cache">
          <ResponsiveContainer width="100%" height={180}>
            <LineChart data={kv} margin={{ top: 8, right: 8, left: 0, bottom: 0 }}>
              <CartesianGrid stroke={c.grid} />
              <XAxis dataKey="context" type="number" domain={['dataMin', 'dataMax']} {...axis} />
              <YAxis {...axis} width={52} tickFormatter={(v) => Number(v).toPrecision(3)} />
              <Tooltip formatter={(v) => mib(Number(v))} labelFormatter={(l) => `${l} tokens`} />
              <Legend />
              <Line dataKey="kvMiB" name={`KV ${kvBits}-bit (MiB)`} stroke={c.series[0]} dot={false} isAnimationActive={false} />
              <Line dataKey="kvFp16MiB" name="KV fp16 (MiB)" stroke={c.series[1]} strokeDasharray="4 3" dot={false} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        </ChartCard>
      )}
      {time.length > 0 && (
        <ChartCard title="Engine process memory (RSS) over time" file="rss">
          <ResponsiveContainer width="100%" height={160}>
            <LineChart data={time} margin={{ top: 8, right: 8, left: 0, bottom: 0 }}>
              <CartesianGrid stroke={c.grid} />
              <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} {...axis} tickFormatter={(v) => `${Number(v).toFixed(1)}s`} />
              <YAxis {...axis} width={48} domain={['auto', 'auto']} tickFormatter={(v) => Number(v).toFixed(0)} />
              <Tooltip formatter={(v) => mib(Number(v))} labelFormatter={(l) => `${Number(l).toFixed(1)} s`} />
              <Line dataKey="rssMiB" name="RSS (MiB)" stroke={c.series[2]} dot={false} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        </ChartCard>
      )}
      {time.length > 0 && (
        <ChartCard title="Tokens per second over time" file="tokens-per-sec">
          <ResponsiveContainer width="100%" height={160}>
            <LineChart data={time} margin={{ top: 8, right: 8, left: 0, bottom: 0 }}>
              <CartesianGrid stroke={c.grid} />
              <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} {...axis} tickFormatter={(v) => `${Number(v).toFixed(1)}s`} />
              <YAxis {...axis} width={48} tickFormatter={(v) => Number(v).toFixed(0)} />
              <Tooltip formatter={(v) => `${Number(v).toFixed(1)} tok/s`} labelFormatter={(l) => `${Number(l).toFixed(1)} s`} />
              <Line dataKey="tokensPerSec" name="tokens/s" stroke={c.series[3]} dot={false} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        </ChartCard>
      )}
    </section>
  );
});
