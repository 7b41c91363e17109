// What one row of the configuration table declares. Parsing, the list of problems,
// .env.example and docs/configuration.md are all produced from these rows.

/** Receives one problem of the variable being parsed; loadConfig prefixes the variable's name. */
export type Report = (problem: string) => void;

export interface ParseContext {
  /** Working directory against which relative folders resolve. */
  readonly cwd: string;
}

/** How the raw text of a variable becomes a typed value. */
export interface Kind<T> {
  /** What a value looks like, for the documentation. */
  readonly type: string;
  /**
   * The default written exactly as one would set it; the parser reads it when the variable is
   * unset, so the documented default and the real one cannot differ. Absent when the default
   * depends on other variables or on the machine (the row's `unset` describes it).
   */
  readonly default?: string;
  parse(raw: string | undefined, report: Report, context: ParseContext): T;
}

export interface ProductionRule<T> {
  /** The rule in a few words, for the documentation ("required", "must be https://"). */
  readonly rule: string;
  /** The problem (without the variable's name) when the value breaks the rule. */
  check(value: T): string | undefined;
}

/** Sections of .env.example and docs/configuration.md, in this order. */
export const GROUPS = {
  server: 'Server',
  services: 'Database, Redis and mail',
  secrets: 'Keys',
  network: 'Network and transport',
  limits: 'Request limits',
  rates: 'Rate limits',
  jobs: 'Background jobs',
  metrics: 'Metrics',
  accounts: 'Accounts and sign-in',
  clinical: 'Clinical records',
  files: 'Medical files',
} as const;
export type Group = keyof typeof GROUPS;

export interface Variable<T> extends Kind<T> {
  readonly group: Group;
  /** One sentence: what the variable changes. */
  readonly meaning: string;
  /** What happens when the variable is not set, for rows without a literal default. */
  readonly unset?: string;
  /** A value shown commented out in .env.example; for a secret, a placeholder saying how to make one. */
  readonly example?: string;
  /** Holds a credential: may also be read from <NAME>_FILE; .env.example never carries a value. */
  readonly secret?: boolean;
  /** Another variable read when this one is not set (HAVEN_ENV falls back to NODE_ENV). */
  readonly fallback?: string;
  /**
   * Checked only in production, and only when the value itself parsed without a problem.
   * NoInfer: the row's type comes from its kind alone, never from the rule.
   */
  readonly production?: ProductionRule<NoInfer<T>>;
}

/** Declares a row; a function only so that T is inferred from the kind and reaches `production`. */
export function variable<T>(row: Variable<T>): Variable<T> {
  return row;
}

/** A rule about several variables together (a pair that goes together, a host that must be allowed). */
export interface CrossRule<Values> {
  /** The rule as one sentence, for the documentation. */
  readonly rule: string;
  readonly productionOnly: boolean;
  /** Complete problem texts (they name the variables involved). */
  check(values: Values): readonly string[];
}
