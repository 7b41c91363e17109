// The configuration's front door; every other file imports the configuration from here.
// Every environment variable is declared once, in the table in config/variables.ts, which
// parsing, the problem list, .env.example and docs/configuration.md are all produced from.
export { loadConfig, startupWarnings } from './config/load.js';
export { ENV_VARIABLES } from './config/variables.js';
export {
  ConfigError,
  RATE_CLASSES,
  type HavenConfig,
  type RateClass,
  type RateLimitRule,
} from './config/types.js';
