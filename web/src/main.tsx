import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import './styles/base.css';
import './styles/forms.css';
import './styles/components.css';
import './styles/clinical.css';
import './styles/reviews.css';
import './styles/print.css';

const container = document.getElementById('root');
if (!container) throw new Error('Haven: #root element is missing from index.html');

createRoot(container).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
