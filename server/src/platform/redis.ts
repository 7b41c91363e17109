// The one Redis connection a node keeps (rate limits, R1), and how its faults show: requests that
// need it answer 503 with Retry-After while it is away (rate-limit.ts), and the log says so once
// per outage rather than once per failed reconnect.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * How long a command may wait for Redis's answer. A counter update answers in well under a
 * millisecond; a Redis that stopped answering on a connection that stays open (a hung or paused
 * server, a network path that drops packets without a reset) would otherwise hold every request
 * until the request timeout cut its socket, instead of the limiter's prompt 503.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 1_000;

export function openRedis(url: string, log: Logger): Redis {
  // Without the offline queue a command sent while the socket is away fails at once (the
  // limiter's 503) instead of waiting in memory.
  const redis = new Redis(url, {
    maxRetriesPerRequest: 2,
    enableOfflineQueue: false,
    lazyConnect: false,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
  });
  // With no 'error' listener ioredis prints every failed reconnect as an unhandled error event.
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    log.warn(
      { cause: error.message },
      'redis unreachable; rate-limited routes answer 503 until it is back',
    );
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    log.info('redis reachable again');
  });
  return redis;
}

/**
 * Resolves once the first connection is ready, once Redis is found unreachable, or after
 * `timeoutMs`: commands sent while the socket is still opening would fail, and the fail-closed
 * limiter would turn a node's first requests into 503s.
 *
 * An error while the socket is open (status `connect`: the client-info and ready-check commands)
 * is not "unreachable": the server accepted the connection, but its answer came after the
 * command deadline, as it does when start-up work holds this process's event loop for over a
 * second (schema compilation on a busy machine). ioredis reconnects from that within
 * milliseconds, so wait for the reconnect; settling on that error let the node report ready
 * while its only connection was down, and its first requests got 503.
 */
export function firstConnectionSettled(redis: Redis, timeoutMs = 5_000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      redis.off('ready', done);
      redis.off('error', onError);
      resolve();
    };
    const onError = (): void => {
      // ioredis emits before it closes the socket, so the status still says how far it got.
      if (redis.status !== 'connect') done();
    };
    const timer = setTimeout(done, timeoutMs);
    redis.once('ready', done);
    redis.on('error', onError);
  });
}
