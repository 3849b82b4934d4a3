/**
 * Prometheus metrics of one app instance (its own prom-client Registry, so several apps in one
 * process — tests — never collide). The inference service reports each finished generation here.
 */
import * as tf from '@tensorflow/tfjs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { GenerationResult } from './generate.ts';

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({ name: 'seqserve_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'] as const, registers: [this.registry] });
  readonly httpDuration = new Histogram({ name: 'seqserve_http_request_duration_seconds', help: 'HTTP request duration (to the end of the response)', labelNames: ['route'] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry] });
  readonly generations = new Counter({ name: 'seqserve_generations_total', help: 'Finished generations by finish reason', labelNames: ['finish_reason'] as const, registers: [this.registry] });
  readonly generatedTokens = new Counter({ name: 'seqserve_generated_tokens_total', help: 'Tokens generated', registers: [this.registry] });
  readonly timeToFirstToken = new Histogram({ name: 'seqserve_time_to_first_token_seconds', help: 'From admission to the first generated token', buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1], registers: [this.registry] });

  constructor(sources: { inFlight: () => number; loadedModels: () => number; chatSessions?: () => { count: number; bytes: number } }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'seqserve_' });
    new Gauge({ name: 'seqserve_generations_in_flight', help: 'Generations running now', registers: [this.registry], collect() { this.set(sources.inFlight()); } });
    new Gauge({ name: 'seqserve_models_loaded', help: 'Model versions held in memory', registers: [this.registry], collect() { this.set(sources.loadedModels()); } });
    new Gauge({ name: 'seqserve_chat_sessions', help: 'Chat sessions kept (MAX_SESSIONS)', registers: [this.registry], collect() { this.set(sources.chatSessions?.().count ?? 0); } });
    new Gauge({ name: 'seqserve_chat_session_bytes', help: 'Memory of the kept chat sessions: state tensors, ids and text (SESSION_MEMORY_MB)', registers: [this.registry], collect() { this.set(sources.chatSessions?.().bytes ?? 0); } });
    new Gauge({ name: 'seqserve_tensors', help: 'Live tf.js tensors (should stay flat)', registers: [this.registry], collect() { this.set(tf.memory().numTensors); } });
  }

  observeGeneration(result: GenerationResult, firstTokenMs: number | null): void {
    this.generations.inc({ finish_reason: result.details.finish_reason });
    this.generatedTokens.inc(result.details.generated_tokens);
    if (firstTokenMs !== null) this.timeToFirstToken.observe(firstTokenMs / 1000);
  }
}
