// Light / dark theme: follows prefers-color-scheme unless the user picked one (remembered).
import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import { safeStorage } from '../state/controller.js';

export type ThemeChoice = 'system' | 'light' | 'dark';
const KEY = 'bitlens.theme';

function systemDark(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches;
}

function subscribeSystem(cb: () => void): () => void {
  if (typeof matchMedia !== 'function') return () => undefined;
  const mq = matchMedia('(prefers-color-scheme: dark)');
  mq.addEventListener('change', cb);
  return () => mq.removeEventListener('change', cb);
}

export function useTheme(): { choice: ThemeChoice; dark: boolean; cycle: () => void } {
  const [choice, setChoice] = useState<ThemeChoice>(() => {
    const v = safeStorage()?.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  });
  const sysDark = useSyncExternalStore(subscribeSystem, systemDark, () => false);
  const dark = choice === 'system' ? sysDark : choice === 'dark';
  useEffect(() => {
    document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  }, [dark]);
  const cycle = useCallback(() => {
    setChoice((c) => {
      const next: ThemeChoice = c === 'system' ? (sysDark ? 'light' : 'dark') : c === 'dark' ? 'light' : 'dark';
      safeStorage()?.setItem(KEY, next);
      return next;
    });
  }, [sysDark]);
  return { choice, dark, cycle };
}

/** Concrete colours for canvas and chart drawing (SVG exported as PNG cannot resolve CSS variables). */
export interface Palette {
  fg: string;
  muted: string;
  grid: string;
  bg: string;
  accent: string;
  accent2: string;
  warn: string;
  bad: string;
  series: string[];
}

export function palette(dark: boolean): Palette {
  return dark
    ? {
        fg: '#e6e8eb', muted: '#9aa3ad', grid: '#3a4049', bg: '#16191d', accent: '#5aa9ff', accent2: '#ffb454',
        warn: '#ffd166', bad: '#ff6b6b', series: ['#5aa9ff', '#ffb454', '#7bd88f', '#ff6b9a', '#b48cff', '#4fd1c5', '#f6e05e'],
      }
    : {
        fg: '#1d2127', muted: '#5b6570', grid: '#d5dae0', bg: '#ffffff', accent: '#0b63ce', accent2: '#c76b00',
        warn: '#a86b00', bad: '#c62828', series: ['#0b63ce', '#c76b00', '#2e8540', '#c2185b', '#6a3fc1', '#00838f', '#8d6e00'],
      };
}
