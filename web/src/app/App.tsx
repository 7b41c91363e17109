import { HealthPage } from '../features/health/HealthPage';

/** Application frame: landmarks shared by every page. The router will render pages inside <main>. */
export function App() {
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to main content
      </a>
      <header className="app-header">
        <div className="container">
          <h1 className="app-title">Haven</h1>
        </div>
      </header>
      <main id="main" className="app-main container" tabIndex={-1}>
        <HealthPage />
      </main>
      <footer className="app-footer">
        <div className="container">Haven · secure clinical-data platform</div>
      </footer>
    </div>
  );
}
