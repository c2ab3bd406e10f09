// Model / scheme / KV bits / device pickers and the engine's state.
import { useEffect, useState } from 'react';
import { DEVICES, KV_BITS, type Device, type KvBits } from '../../../engine/common/api.js';
import { SCHEMES, type Scheme } from '../../../engine/common/scheme.js';
import { useAppState, useController } from '../app/context.js';

export function ModelBar() {
  const controller = useController();
  const models = useAppState((s) => s.models);
  const activeModelId = useAppState((s) => s.activeModelId);
  const engine = useAppState((s) => s.engine);
  const [modelId, setModelId] = useState<string>('');
  const [scheme, setScheme] = useState<Scheme>('b1.58');
  const [kvBits, setKvBits] = useState<KvBits>(16);
  const [device, setDevice] = useState<Device>('auto');
  const [busy, setBusy] = useState(false);

  // Follow the host's active model and its remembered run options until the user edits them.
  const chosen = models.find((m) => m.id === (modelId || activeModelId)) ?? models[0];
  useEffect(() => {
    if (!chosen) return;
    setModelId(chosen.id);
    setScheme(chosen.run.scheme);
    setKvBits(chosen.run.kvBits);
    setDevice(chosen.run.device);
  }, [chosen?.id, chosen?.run.scheme, chosen?.run.kvBits, chosen?.run.device]);

  const load = async () => {
    if (!chosen) return;
    setBusy(true);
    await controller.selectModel(chosen.id, { scheme, kvBits, device });
    setBusy(false);
  };

  const state = engine?.state ?? 'idle';
  const info = engine?.info;
  const loaded = info && engine?.modelId === chosen?.id && info.run.scheme === scheme && info.run.kvBits === kvBits && (device === 'auto' || info.run.device === device);
  return (
    <>
    <form className="model-bar" aria-label="Model and run options" onSubmit={(e) => { e.preventDefault(); void load(); }}>
      <label>
        Model
        <select value={chosen?.id ?? ''} onChange={(e) => setModelId(e.target.value)} disabled={!models.length}>
          {models.length === 0 && <option value="">no models</option>}
          {models.map((m) => (
            <option key={m.id} value={m.id}>{m.name}</option>
          ))}
        </select>
      </label>
      <label>
        Scheme
        <select value={scheme} onChange={(e) => setScheme(e.target.value as Scheme)}>
          {SCHEMES.map((s) => <option key={s} value={s}>{s}{chosen?.trainedScheme === s ? ' (trained)' : ''}</option>)}
        </select>
      </label>
      <label>
        KV bits
        <select value={kvBits} onChange={(e) => setKvBits(Number(e.target.value) as KvBits)}>
          {KV_BITS.map((b) => <option key={b} value={b}>{b}</option>)}
        </select>
      </label>
      <label>
        Device
        <select value={device} onChange={(e) => setDevice(e.target.value as Device)}>
          {DEVICES.map((d) => <option key={d} value={d}>{d}</option>)}
        </select>
      </label>
      <button type="submit" disabled={!chosen || busy || state === 'starting'}>
        {busy || state === 'starting' ? 'Loading…' : loaded ? 'Reload' : 'Load'}
      </button>
      <span className={`engine-state state-${state}`} role="status" aria-live="polite" data-testid="engine-state" title={engine?.deviceNote}>
        {state === 'ready' || state === 'restarted'
          ? `${info?.name ?? 'model'} · ${info?.run.scheme}${info?.run.experiment ? ` · EXPERIMENT ${info.run.experiment}` : ''} · KV ${info?.run.kvBits} · ${engine?.device ?? info?.device}`
          : state}
        {engine?.deviceNote && <span className="muted"> ({engine.deviceNote.length > 40 ? `${engine.deviceNote.slice(0, 40)}…` : engine.deviceNote})</span>}
      </span>
    </form>
    <AddModel />
    </>
  );
}

function AddModel() {
  const controller = useController();
  const [folder, setFolder] = useState('');
  const adding = useAppState((s) => s.adding);
  return (
    <form
      className="add-model"
      aria-label="Add a model folder"
      onSubmit={(e) => {
        e.preventDefault();
        if (folder.trim()) void controller.addModel(folder.trim()).then((ok) => ok && setFolder(''));
      }}
    >
      <label>
        Add model folder
        <input value={folder} onChange={(e) => setFolder(e.target.value)} placeholder="/path/to/model" spellCheck={false} />
      </label>
      <button type="submit" disabled={!folder.trim() || adding !== null}>Add</button>
      {adding && (
        <label>
          Importing model
          <progress max={1} value={adding.fraction} aria-valuetext={`${Math.round(adding.fraction * 100)}%`} />
          <span aria-hidden="true">{Math.round(adding.fraction * 100)}%</span>
        </label>
      )}
    </form>
  );
}
