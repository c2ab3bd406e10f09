import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { getHost } from '../host/index.js';
import { App } from './App.js';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('BitLens: #root element missing from index.html');
createRoot(root).render(
  <StrictMode>
    <App host={getHost()} />
  </StrictMode>,
);
