import { getJson, isRecord, type RequestOptions } from '../../shared/api';

export interface Liveness {
  status: string;
}

export interface Readiness {
  status: string;
  /** Check name → state, e.g. { database: 'ok', redis: 'not_configured' }. */
  checks: Array<[name: string, state: string]>;
}

/** Keeps only string-valued entries; anything else from the server is ignored. */
export function decodeChecks(value: unknown): Array<[string, string]> {
  if (!isRecord(value)) return [];
  return Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string');
}

function decodeLiveness(body: unknown): Liveness {
  if (!isRecord(body) || typeof body['status'] !== 'string') throw new Error('Missing "status".');
  return { status: body['status'] };
}

function decodeReadiness(body: unknown): Readiness {
  if (!isRecord(body) || typeof body['status'] !== 'string') throw new Error('Missing "status".');
  return { status: body['status'], checks: decodeChecks(body['checks']) };
}

export function fetchLiveness(options: RequestOptions): Promise<Liveness> {
  return getJson('/healthz', decodeLiveness, { ...options, cache: 'no-store' });
}

export function fetchReadiness(options: RequestOptions): Promise<Readiness> {
  return getJson('/readyz', decodeReadiness, { ...options, cache: 'no-store' });
}
