import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout, one object per line, with the service name on every line. */
export function createLogger(options: { service: string; level: string; base?: Record<string, unknown> }): Logger {
  return pino({
    level: options.level,
    base: { service: options.service, pid: process.pid, ...options.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ['req.headers.authorization', 'config.REDIS_URL'], censor: '***' },
  });
}
