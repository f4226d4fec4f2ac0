export { freePort, freePorts, isPortFree, assertPortFree, isListening, LOOPBACK } from './ports.js';
export { waitFor, waitForHttp, httpGet, type WaitOptions, type HttpResult } from './wait.js';
export {
  ManagedProcess,
  cpuScheduling,
  describeExit,
  liveProcesses,
  scheduledCommand,
  type CpuScheduling,
  type ExitInfo,
  type ProcessOptions,
} from './process.js';
export { findRepoRoot, findExecutable, requireExecutable } from './paths.js';
export { startRedis, redisPing, type RedisOptions, type RedisHandle } from './redis.js';
export {
  redisAcl,
  redisCredentials,
  redisUrls,
  SERVICE_COMMANDS,
  WORKER_KEY_FAMILIES,
  type RedisCredentials,
  type RedisUser,
} from './redis-auth.js';
export {
  NGINX_PLACEHOLDERS,
  renderTemplate,
  templatePlaceholders,
  nginxTemplateVars,
  renderNginxConf,
  defaultNginxTemplatePath,
  startNginx,
  type NginxPlaceholder,
  type NginxConfOptions,
  type NginxOptions,
  type NginxHandle,
} from './nginx.js';
export {
  API_NODE_FLAGS,
  startApi,
  startWorker,
  serviceEnv,
  type EnvOverrides,
  type ServiceOptions,
  type ApiOptions,
  type WorkerOptions,
  type ServiceHandle,
} from './apps.js';
export { Stack, startStack } from './stack.js';
export type { StackOptions, ServiceKind, ProcessExitEvent } from './stack-options.js';
export { assignDevices, cudaDevices, detectGpus, parseCudaDevices } from './devices.js';
export { createApiKey, type ApiKeyOptions, type CreatedApiKey } from './keys.js';
export { startSentinelGroup, type SentinelGroup, type SentinelGroupOptions } from './sentinel.js';
export { redisCommand, RespError, type RespValue } from './resp.js';
