export * from './names.js';
export * from './reply.js';
export * from './heartbeat.js';
export * from './admission.js';
export * from './idempotency.js';
export * from './script.js';
export * from './reply-sender.js';
export * from './connection.js';
