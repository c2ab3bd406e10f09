// A titled chart with a PNG export button.
import { useRef, type ReactNode } from 'react';
import { usePalette } from '../app/ThemeContext.js';
import { exportChartPng } from '../export/download.js';

export function ChartCard({ title, file, children, note }: { title: string; file: string; children: ReactNode; note?: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  const { bg } = usePalette();
  return (
    <section className="card chart-card" aria-label={title}>
      <header>
        <h3>{title}</h3>
        <button type="button" className="link" onClick={() => void exportChartPng(ref.current, `bitlens-${file}.png`, bg)}>PNG</button>
      </header>
      <div ref={ref} className="chart-body">{children}</div>
      {note && <p className="muted chart-note">{note}</p>}
    </section>
  );
}
