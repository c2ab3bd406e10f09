// Layout: conversations | chat | inspector / sparsity / memory; compare mode as its own page.
import { useEffect, useMemo, useState } from 'react';
import type { BitLensHost } from '../../contract/index.js';
import { ControllerContext } from './app/context.js';
import { PaletteContext } from './app/ThemeContext.js';
import { palette, useTheme } from './app/theme.js';
import { Banners } from './chat/Banners.js';
import { ChatView } from './chat/ChatView.js';
import { ConversationList } from './chat/ConversationList.js';
import { ModelBar } from './chat/ModelBar.js';
import { CompareView } from './compare/CompareView.js';
import { MemoryView } from './graphs/MemoryView.js';
import { SparsityView } from './graphs/SparsityView.js';
import { Inspector } from './inspector/Inspector.js';
import { AppController } from './state/controller.js';

type Pane = 'inspector' | 'sparsity' | 'memory';
type Mode = 'chat' | 'compare';

const PANES: { id: Pane; label: string }[] = [
  { id: 'inspector', label: 'Inspector' },
  { id: 'sparsity', label: 'Sparsity' },
  { id: 'memory', label: 'Memory' },
];

export function App({ host }: { host: BitLensHost }) {
  const controller = useMemo(() => new AppController(host), [host]);
  useEffect(() => {
    void controller.start();
    return () => controller.dispose();
  }, [controller]);
  const theme = useTheme();
  const colors = useMemo(() => palette(theme.dark), [theme.dark]);
  const [mode, setMode] = useState<Mode>('chat');
  const [pane, setPane] = useState<Pane>('inspector');

  return (
    <ControllerContext.Provider value={controller}>
      <PaletteContext.Provider value={colors}>
        <div className={`app mode-${mode}`}>
          <header className="topbar">
            <h1 className="brand">BitLens</h1>
            <ModelBar />
            <nav className="modes" aria-label="Mode">
              <button type="button" aria-pressed={mode === 'chat'} onClick={() => setMode('chat')}>Chat</button>
              <button type="button" aria-pressed={mode === 'compare'} onClick={() => setMode('compare')}>Compare</button>
            </nav>
            <button type="button" className="theme-toggle" onClick={theme.cycle} aria-label={`Theme: ${theme.choice}. Switch theme`}>
              {theme.dark ? '☾ Dark' : '☀ Light'}
            </button>
          </header>
          <Banners />
          {mode === 'chat' ? (
            <main className="workspace">
              <ConversationList />
              <ChatView />
              <aside className="side" aria-label="Model views">
                <div role="tablist" className="tabs" aria-label="Model views">
                  {PANES.map((p) => (
                    <button
                      key={p.id}
                      type="button"
                      role="tab"
                      id={`tab-${p.id}`}
                      aria-selected={pane === p.id}
                      aria-controls={`panel-${p.id}`}
                      tabIndex={pane === p.id ? 0 : -1}
                      onClick={() => setPane(p.id)}
                      onKeyDown={(e) => {
                        if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
                        const i = PANES.findIndex((x) => x.id === pane);
                        const next = PANES[(i + (e.key === 'ArrowRight' ? 1 : PANES.length - 1)) % PANES.length];
                        setPane(next.id);
                        document.getElementById(`tab-${next.id}`)?.focus();
                      }}
                    >
                      {p.label}
                    </button>
                  ))}
                </div>
                <div role="tabpanel" id={`panel-${pane}`} aria-labelledby={`tab-${pane}`} className="tabpanel">
                  {pane === 'inspector' && <Inspector dark={theme.dark} />}
                  {pane === 'sparsity' && <SparsityView />}
                  {pane === 'memory' && <MemoryView />}
                </div>
              </aside>
            </main>
          ) : (
            <main className="workspace compare-mode">
              <CompareView />
            </main>
          )}
        </div>
      </PaletteContext.Provider>
    </ControllerContext.Provider>
  );
}
