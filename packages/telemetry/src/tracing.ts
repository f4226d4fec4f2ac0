import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Link,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import { parseTraceParent } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

/**
 * OpenTelemetry tracing across the tiers, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set. Spans
 * are passed between the tiers as W3C `traceparent` strings (an HTTP header, a field of the
 * job), so the request path only ever handles strings and nothing here needs a context manager.
 */
export interface SpanHandle {
  /** This span as a W3C traceparent (its parent's, or undefined, when tracing is off). */
  readonly traceparent: string | undefined;
  setAttributes(attributes: Record<string, string | number | boolean>): void;
  /** Ends the span (at `endMs`, epoch milliseconds, when given); an error marks it failed. */
  end(options?: { endMs?: number; error?: string }): void;
}

export interface SpanOptions {
  /** W3C traceparent of the parent; a new trace without one. */
  parent?: string | undefined;
  /** Epoch milliseconds; now when absent. */
  startMs?: number;
  /** traceparents of spans this one is linked to (the requests of a batch). */
  links?: readonly (string | undefined)[];
  attributes?: Record<string, string | number | boolean>;
  kind?: 'server' | 'internal';
}

export interface Tracing {
  readonly enabled: boolean;
  start(name: string, options?: SpanOptions): SpanHandle;
  /** Sends what is buffered and stops; safe to call more than once. */
  shutdown(): Promise<void>;
}

function contextOf(traceparent: string | undefined): SpanContext | undefined {
  return traceparent ? (parseTraceParent(traceparent) ?? undefined) : undefined;
}

export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** Off: spans are not recorded, and a parent traceparent passes through unchanged. */
export function noopTracing(): Tracing {
  return {
    enabled: false,
    start: (_name, options) => ({ traceparent: options?.parent, setAttributes: () => {}, end: () => {} }),
    shutdown: async () => {},
  };
}

function otelTracing(tracer: Tracer, provider: TracerProvider): Tracing {
  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    start(name, options = {}) {
      const parent = contextOf(options.parent);
      const links: Link[] = (options.links ?? []).flatMap((l) => {
        const context = contextOf(l);
        return context ? [{ context }] : [];
      });
      const span = tracer.startSpan(
        name,
        {
          kind: options.kind === 'server' ? SpanKind.SERVER : SpanKind.INTERNAL,
          links,
          ...(options.startMs !== undefined ? { startTime: options.startMs } : {}),
          ...(options.attributes ? { attributes: options.attributes } : {}),
        },
        parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT,
      );
      return {
        traceparent: formatTraceparent(span.spanContext()),
        setAttributes: (attributes) => void span.setAttributes(attributes),
        end(end = {}) {
          if (end.error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: end.error });
          span.end(end.endMs);
        },
      };
    },
    shutdown() {
      stopped ??= provider.shutdown().catch(() => {
        // Spans not exported by now are lost either way; stopping must not fail the shutdown.
      });
      return stopped;
    },
  };
}

let current: Tracing = noopTracing();

/**
 * Starts tracing for this process when `endpoint` (OTEL_EXPORTER_OTLP_ENDPOINT) is set: spans
 * go to `<endpoint>/v1/traces` over OTLP/HTTP, batched. Returns the process's Tracing.
 */
export function initTracing(
  service: string,
  endpoint: string | undefined,
  attributes: Record<string, string> = {},
): Tracing {
  if (!endpoint) return current;
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, ...attributes }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 500 })],
  });
  current = otelTracing(provider.getTracer('tessera'), provider);
  return current;
}

/** The process's Tracing: the one initTracing started, or one that records nothing. */
export function tracing(): Tracing {
  return current;
}
