import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { findExecutable } from './paths.js';
import {
  defaultNginxTemplatePath,
  NGINX_PLACEHOLDERS,
  nginxTemplateVars,
  renderNginxConf,
  renderTemplate,
  templatePlaceholders,
} from './nginx.js';

const template = readFileSync(defaultNginxTemplatePath(), 'utf8');

test('renderTemplate substitutes ${NAME} and leaves nginx variables alone', () => {
  const out = renderTemplate('listen ${PORT}; set $x $request_id; proxy_set_header A $http_a;', { PORT: '81' });
  assert.equal(out, 'listen 81; set $x $request_id; proxy_set_header A $http_a;');
});

test('renderTemplate rejects placeholders without a value', () => {
  assert.throws(() => renderTemplate('a ${ONE} ${TWO}', { ONE: '1' }), /\$\{TWO\}/);
});

test('the root nginx.conf uses exactly the documented placeholders', () => {
  assert.deepEqual(templatePlaceholders(template), [...NGINX_PLACEHOLDERS].sort());
});

test('the root nginx.conf has no placeholder in a comment', () => {
  for (const line of template.split('\n')) {
    if (line.trimStart().startsWith('#')) assert.doesNotMatch(line, /\$\{?[A-Z]/, line);
  }
});

test('renderNginxConf fills in the local stack values', () => {
  const conf = renderNginxConf({
    template,
    listenPort: 18080,
    apiPorts: [13001, 13002, 13003],
    prefix: '/tmp/px',
    errorLog: '/tmp/px/e.log',
    accessLog: '/tmp/px/a.log',
  });
  assert.doesNotMatch(conf, /\$\{[A-Z]/);
  assert.match(conf, /listen 127\.0\.0\.1:18080\b/);
  for (const port of [13001, 13002, 13003]) assert.match(conf, new RegExp(`server 127\\.0\\.0\\.1:${port}\\b[^;]*;`));
  assert.match(conf, /^pid \/tmp\/px\/nginx\.pid;/m);
  assert.match(conf, /client_body_temp_path \/tmp\/px\/client_body_temp;/);
  assert.match(conf, /access_log \/tmp\/px\/a\.log json;/);
  assert.match(conf, /error_log \/tmp\/px\/e\.log /);
  assert.match(conf, /worker_processes 1;/);
});

test('the gateway config carries the required proxy settings', () => {
  const conf = renderNginxConf({ template, listenPort: 8080, apiPorts: [3001], prefix: '/p' })
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n');
  const upstream = /upstream api \{([^}]*)\}/.exec(conf)?.[1] ?? '';
  assert.match(upstream, /keepalive \d+;/);
  assert.match(conf, /proxy_http_version 1\.1;/);
  assert.match(conf, /proxy_set_header Connection "";/);
  assert.match(conf, /proxy_set_header X-Request-Id \$tessera_request_id;/);
  assert.match(conf, /""\s+\$request_id;/);
  assert.match(
    conf,
    /proxy_set_header X-Forwarded-For \$remote_addr;/,
    "the edge drops a client's own X-Forwarded-For",
  );
  assert.match(conf, /proxy_set_header X-Real-IP \$remote_addr;/);
  assert.match(conf, /proxy_next_upstream error timeout;/);
  assert.doesNotMatch(conf, /non_idempotent/);
  assert.match(conf, /log_format json escape=json/);
  assert.match(conf, /location ~\* \^\/metrics \{[^}]*return 404/, 'every spelling of /metrics, whatever its case');
  const readTimeout = Number(/proxy_read_timeout (\d+)s;/.exec(conf)?.[1]);
  assert.ok(readTimeout > 30, 'proxy_read_timeout must exceed the API request timeout');
});

test("gRPC: an HTTP/2 listener passing each call to the replicas' gRPC ports, with no cap on a stream's total size", () => {
  const conf = renderNginxConf({
    template,
    listenPort: 8080,
    grpcListenPort: 8081,
    apiPorts: [3001],
    apiGrpcPorts: [4001, 4002],
    prefix: '/p',
  });
  assert.match(conf, /upstream api_grpc \{\s*server 127\.0\.0\.1:4001 [^;]*;\s*server 127\.0\.0\.1:4002 /);
  const grpcServer = conf.slice(conf.indexOf('listen 127.0.0.1:8081 http2'));
  assert.ok(grpcServer.length < conf.length, 'a gRPC listener on 8081');
  assert.match(grpcServer, /grpc_pass grpc:\/\/api_grpc;/);
  assert.match(grpcServer, /client_max_body_size 0;/);
  assert.ok(
    Number(/grpc_read_timeout (\d+)s;/.exec(grpcServer)?.[1]) > 30,
    'grpc_read_timeout must exceed the API request timeout',
  );
  // Without gRPC replicas the listener refuses every call instead of failing to start.
  assert.match(
    renderNginxConf({ template, listenPort: 8080, apiPorts: [3001], prefix: '/p' }),
    /upstream api_grpc \{\s*server 127\.0\.0\.1:9 down;/,
  );
});

test('nginxTemplateVars accepts explicit upstream addresses', () => {
  const vars = nginxTemplateVars({
    listenPort: 1,
    apiUpstreams: ['api:3000'],
    prefix: '/p',
    workerProcesses: 'auto',
    listenAddress: '*',
  });
  assert.match(vars.API_UPSTREAMS, /^server api:3000\b/);
  assert.equal(vars.NGINX_WORKER_PROCESSES, 'auto');
  assert.equal(vars.NGINX_LISTEN_ADDRESS, '*');
  assert.throws(() => nginxTemplateVars({ listenPort: 1, prefix: '/p' }), /at least one API upstream/);
});

test('the local rendering equals the official nginx image envsubst step, and nginx accepts it', () => {
  // npm test installs it; a missing one fails here rather than skipping the comparison.
  assert.ok(findExecutable('envsubst'), 'envsubst is not installed (npm test installs it through apt: gettext-base)');
  const dir = mkdtempSync(join(tmpdir(), 'tessera-envsubst-'));
  try {
    // The values a container gets (see docker-compose.gpu.yml), with a resolvable upstream.
    const vars = {
      ...nginxTemplateVars({
        listenPort: 18089,
        listenAddress: '*',
        workerProcesses: 'auto',
        apiUpstreams: ['127.0.0.1:3000'],
        prefix: dir,
      }),
      NGINX_ACCESS_LOG: '/dev/stdout',
      NGINX_ERROR_LOG: '/dev/stderr',
    };
    // What /docker-entrypoint.d/20-envsubst-on-templates.sh runs: envsubst limited to the
    // names of the defined variables that pass NGINX_ENVSUBST_FILTER.
    const shellFormat = Object.keys(vars)
      .map((name) => '${' + name + '}')
      .join(' ');
    const result = spawnSync('envsubst', [shellFormat], {
      input: template,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, ...vars },
    });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, renderTemplate(template, vars));
    const nginx = findExecutable('nginx');
    if (nginx) {
      const conf = join(dir, 'nginx.conf');
      // (/dev/stdout is a socket under this test runner, which nginx cannot open; in a container
      // it is a pipe.)
      writeFileSync(
        conf,
        result.stdout
          .replaceAll('/dev/stdout', join(dir, 'access.log'))
          .replaceAll('/dev/stderr', join(dir, 'error.log')),
      );
      const check = spawnSync(nginx, ['-t', '-q', '-p', `${dir}/`, '-c', conf, '-g', 'daemon off;'], {
        encoding: 'utf8',
      });
      assert.equal(check.status, 0, check.stderr);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
