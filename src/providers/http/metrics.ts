// Provider request metrics on prom-client's default registry (get-or-create, so tests and several
// clients share them). Labels are bounded: provider type, operation name, HTTP code.
import { Counter, Histogram, register } from 'prom-client';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

function requestsTotal(): Counter<'provider' | 'operation' | 'code'> {
  const name = 'stack_operator_provider_requests_total';
  return (
    (register.getSingleMetric(name) as Counter<'provider' | 'operation' | 'code'> | undefined) ??
    new Counter({
      name,
      help: 'HTTP requests sent to stack providers, by provider type, operation and HTTP status code (or "error" for network failures)',
      labelNames: ['provider', 'operation', 'code'],
    })
  );
}

function requestDuration(): Histogram<'provider' | 'operation'> {
  const name = 'stack_operator_provider_request_duration_seconds';
  return (
    (register.getSingleMetric(name) as Histogram<'provider' | 'operation'> | undefined) ??
    new Histogram({
      name,
      help: 'Duration of HTTP requests to stack providers (one observation per attempt)',
      labelNames: ['provider', 'operation'],
      buckets: BUCKETS,
    })
  );
}

export function observeRequest(provider: string, operation: string, code: string, seconds: number): void {
  requestsTotal().inc({ provider, operation, code });
  requestDuration().observe({ provider, operation }, seconds);
}
