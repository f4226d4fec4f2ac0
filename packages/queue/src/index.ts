export * from './names.js';
export * from './reply.js';
export * from './heartbeat.js';
