/** Redis connections for BullMQ. Queue clients fail fast when Redis is down (the API must not hang). */
import { Redis, type RedisOptions } from 'ioredis';

/** For Queue/QueueEvents in the API: commands fail instead of queueing while disconnected. */
export function apiRedis(url: string): Redis {
  const options: RedisOptions = {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(1000, 50 * times),
  };
  return new Redis(url, options);
}

/** For Workers and QueueEvents: blocking commands (BullMQ requires maxRetriesPerRequest null). */
export function blockingRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(2000, 100 * times) });
}
