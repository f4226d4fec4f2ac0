import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadApiConfig } from '@tessera/config';
import { defaultNginxTemplatePath } from '@tessera/topology';

test("nginx's body limit sits just above the API's BODY_LIMIT default, so that the API answers 413 itself", () => {
  const template = readFileSync(defaultNginxTemplatePath(), 'utf8');
  const m = /client_max_body_size (\d+)m;/.exec(template);
  assert.ok(m, 'client_max_body_size is set in megabytes');
  const gateway = Number(m[1]) * 1024 * 1024;
  const api = loadApiConfig({}).BODY_LIMIT;
  assert.ok(gateway > api && gateway - api <= 2 * 1024 * 1024, `gateway ${gateway} B against the API's ${api} B`);
  assert.match(template, new RegExp(`gateway limit of ${m[1]} MiB`), "the gateway's own 413 names its limit");
});

test("the default body limit fits a 1024×1024 ocr-det page as FP32 JSON written as Triton's client writes it", () => {
  // tritonclient sends tensor.flatten().tolist(): float32 values printed as doubles, about 20
  // characters with the separator for normalised pixels (64 MB measured on random ones).
  const page = 3 * 1024 * 1024 * '0.48235294222831726,'.length;
  assert.ok(loadApiConfig({}).BODY_LIMIT >= page, `${page} B`);
});
