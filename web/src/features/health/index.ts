/** System health: the liveness and readiness probes, shown on the home page. */
export { HealthPage } from './HealthPage';
