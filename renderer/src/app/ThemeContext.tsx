import { createContext, useContext } from 'react';
import { palette, type Palette } from './theme.js';

export const PaletteContext = createContext<Palette>(palette(false));

export function usePalette(): Palette {
  return useContext(PaletteContext);
}
