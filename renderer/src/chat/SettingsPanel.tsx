// System prompt and sampling settings of the open conversation (saved on change / blur).
import { useEffect, useState } from 'react';
import type { SamplingOptions } from '../../../engine/common/api.js';
import type { Conversation } from '../../../contract/index.js';
import { useController } from '../app/context.js';

type NumericKey = 'maxTokens' | 'temperature' | 'topK' | 'topP' | 'repetitionPenalty';
const FIELDS: { key: NumericKey; label: string; min: number; max: number; step: number }[] = [
  { key: 'temperature', label: 'Temperature (0 = greedy)', min: 0, max: 5, step: 0.05 },
  { key: 'topK', label: 'Top-k (0 = off)', min: 0, max: 1000, step: 1 },
  { key: 'topP', label: 'Top-p', min: 0.01, max: 1, step: 0.01 },
  { key: 'repetitionPenalty', label: 'Repetition penalty', min: 0.5, max: 5, step: 0.05 },
  { key: 'maxTokens', label: 'Max tokens', min: 1, max: 32768, step: 1 },
];

export function SettingsPanel({ conversation }: { conversation: Conversation }) {
  const controller = useController();
  const [system, setSystem] = useState(conversation.systemPrompt);
  const [seed, setSeed] = useState(conversation.sampling.seed?.toString() ?? '');
  useEffect(() => {
    setSystem(conversation.systemPrompt);
    setSeed(conversation.sampling.seed?.toString() ?? '');
  }, [conversation.id, conversation.systemPrompt, conversation.sampling.seed]);

  const save = (sampling: Partial<SamplingOptions>) => void controller.updateSettings(conversation.id, { sampling });
  return (
    <details className="settings">
      <summary>System prompt &amp; sampling</summary>
      <label className="block">
        System prompt
        <textarea
          rows={2}
          value={system}
          onChange={(e) => setSystem(e.target.value)}
          onBlur={() => system !== conversation.systemPrompt && void controller.updateSettings(conversation.id, { systemPrompt: system })}
        />
      </label>
      <div className="sampling-grid">
        {FIELDS.map((f) => (
          <NumberField key={`${conversation.id}-${f.key}`} label={f.label} min={f.min} max={f.max} step={f.step} value={conversation.sampling[f.key]} onCommit={(v) => save({ [f.key]: v })} />
        ))}
        <label>
          Seed (empty = random)
          <input
            type="number"
            min={0}
            step={1}
            value={seed}
            onChange={(e) => setSeed(e.target.value)}
            onBlur={() => {
              const v = seed === '' ? undefined : Number(seed);
              if (v === undefined || (Number.isInteger(v) && v >= 0)) save({ seed: v });
            }}
          />
        </label>
      </div>
    </details>
  );
}

function NumberField(p: { label: string; min: number; max: number; step: number; value: number; onCommit: (v: number) => void }) {
  const [v, setV] = useState(String(p.value));
  useEffect(() => setV(String(p.value)), [p.value]);
  const n = Number(v);
  const valid = v !== '' && Number.isFinite(n) && n >= p.min && n <= p.max;
  return (
    <label>
      {p.label}
      <input
        type="number"
        min={p.min}
        max={p.max}
        step={p.step}
        value={v}
        aria-invalid={!valid}
        onChange={(e) => setV(e.target.value)}
        onBlur={() => (valid && n !== p.value ? p.onCommit(n) : setV(String(p.value)))}
      />
    </label>
  );
}
