import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics shared by the API and the worker; each process has its own registry. */
export class ServiceMetrics {
  readonly registry = new Registry();

  readonly webhookEvents = new Counter({
    name: 'provenance_webhook_events_total',
    help: 'Webhook events received, by registry, action and outcome (accepted, duplicate, ignored).',
    labelNames: ['registry', 'action', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly webhookRequests = new Counter({
    name: 'provenance_webhook_requests_total',
    help: 'Webhook HTTP requests, by HTTP status.',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly jobDuration = new Histogram({
    name: 'provenance_job_duration_seconds',
    help: 'Queue job processing time in seconds, by queue and outcome.',
    labelNames: ['queue', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly jobFailures = new Counter({
    name: 'provenance_job_failures_total',
    help: 'Queue jobs that threw, by queue and whether BullMQ will retry them.',
    labelNames: ['queue', 'retry'] as const,
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: 'provenance_queue_jobs',
    help: 'Jobs in each queue by state, read from Redis when metrics are scraped.',
    labelNames: ['queue', 'state'] as const,
    registers: [this.registry],
  });

  readonly registryRequests = new Counter({
    name: 'provenance_registry_requests_total',
    help: 'HTTP requests to registries, by registry and status class.',
    labelNames: ['registry', 'status'] as const,
    registers: [this.registry],
  });

  constructor(prefix = 'provenance_') {
    collectDefaultMetrics({ register: this.registry, prefix });
  }
}
