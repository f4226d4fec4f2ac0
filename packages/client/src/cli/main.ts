#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { TesseraError } from '../errors.js';
import { InferenceClient } from '../rest-client.js';
import { toJson } from '../tensors.js';
import type { InferenceApi, InferResult } from '../types.js';
import { parseInput, zeroInputs } from './inputs.js';
import { perfStep } from './perf.js';

const USAGE = `tessera: a client of the Open Inference Protocol (Tessera, Triton, KServe)

  tessera models                                  model versions and their state
  tessera metadata <model>                        inputs, outputs, parameters
  tessera infer <model> --input x=@file.npy|@file.json|<json> [--input …] [--output y]
  tessera predict --text "…" [--text "…"] [--model lid176] [--k 3]
  tessera ocr <image.png|jpg> [--model ocr|ocr-line]
  tessera perf <model> [--concurrency 1,8,64] [--duration 10] [--input …]

options:
  --url URL          REST: http://host:port (TESSERA_URL, default http://127.0.0.1:8080);
                     gRPC: host:port (TESSERA_GRPC_URL, default 127.0.0.1:8081)
  --key KEY          API key (TESSERA_API_KEY)
  --protocol P       rest (binary tensors, the default), json (REST with JSON tensors) or grpc
  --timeout MS       deadline of each call
  --json             machine-readable output
`;

const options = {
  url: { type: 'string' },
  key: { type: 'string' },
  protocol: { type: 'string', default: 'rest' },
  timeout: { type: 'string' },
  json: { type: 'boolean', default: false },
  input: { type: 'string', multiple: true },
  output: { type: 'string', multiple: true },
  text: { type: 'string', multiple: true },
  model: { type: 'string' },
  version: { type: 'string' },
  k: { type: 'string' },
  concurrency: { type: 'string', default: '1,8,64' },
  duration: { type: 'string', default: '10' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

async function makeClient(flags: Flags, forPerf = false): Promise<InferenceApi & Partial<InferenceClient>> {
  const protocol = flags.protocol;
  const apiKey = flags.key ?? process.env.TESSERA_API_KEY;
  const timeoutMs = flags.timeout !== undefined ? Number(flags.timeout) : undefined;
  const common = {
    ...(apiKey ? { apiKey } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(forPerf ? { retry: { retries: 0 } } : {}),
  };
  if (protocol === 'grpc') {
    // Loaded only when asked for: the REST path needs no gRPC library.
    const { GrpcInferenceClient } = await import('../grpc/client.js');
    return new GrpcInferenceClient({ url: flags.url ?? process.env.TESSERA_GRPC_URL ?? '127.0.0.1:8081', ...common });
  }
  if (protocol !== 'rest' && protocol !== 'json')
    throw new Error(`--protocol is rest, json or grpc, not '${protocol}'`);
  return new InferenceClient({
    url: flags.url ?? process.env.TESSERA_URL ?? 'http://127.0.0.1:8080',
    binary: protocol === 'rest',
    ...common,
  });
}

function print(flags: Flags, value: unknown, human: () => string): void {
  process.stdout.write(
    flags.json ? `${JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n` : `${human()}\n`,
  );
}

function resultJson(r: InferResult) {
  return {
    model_name: r.modelName,
    model_version: r.modelVersion,
    ...(r.id ? { id: r.id } : {}),
    parameters: r.parameters,
    outputs: r.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape, data: toJson(o) })),
  };
}

function showValues(values: unknown[], max = 16): string {
  const shown = values
    .slice(0, max)
    .map((v) => (typeof v === 'number' ? String(Math.round(v * 1e6) / 1e6) : String(v)));
  return `[${shown.join(', ')}${values.length > max ? `, … ${values.length - max} more` : ''}]`;
}

function need(value: string | undefined, what: string): string {
  if (!value) throw new Error(`${what} is required\n\n${USAGE}`);
  return value;
}

async function run(command: string | undefined, args: string[], flags: Flags): Promise<void> {
  const client = await makeClient(flags, command === 'perf');
  try {
    switch (command) {
      case 'models': {
        const rows = await client.repositoryIndex();
        return print(flags, rows, () =>
          rows
            .map(
              (r) =>
                `${r.name.padEnd(16)} ${String(r.version ?? '').padEnd(4)} ${r.state ?? ''}${r.reason ? `  (${r.reason})` : ''}`,
            )
            .join('\n'),
        );
      }
      case 'metadata': {
        const m = await client.modelMetadata(
          need(args[0], 'a model name'),
          flags.version ? { version: flags.version } : {},
        );
        const row = (t: { name: string; datatype: string; shape: number[] }) =>
          `  ${t.name} ${t.datatype} [${t.shape.join(', ')}]`;
        return print(flags, m, () =>
          [
            `${m.name} (${m.platform}) versions ${(m.versions ?? []).join(', ')}`,
            'inputs:',
            ...m.inputs.map(row),
            'outputs:',
            ...m.outputs.map(row),
            ...Object.entries(m.parameters ?? {}).map(([k, v]) => `${k}: ${v}`),
          ].join('\n'),
        );
      }
      case 'infer': {
        const model = need(args[0], 'a model name');
        const metadata = await client.modelMetadata(model);
        if (!flags.input?.length) throw new Error(`--input is required\n\n${USAGE}`);
        const inputs = flags.input.map((s) => parseInput(s, metadata));
        const r = await client.infer(model, inputs, {
          ...(flags.output ? { outputs: flags.output } : {}),
          ...(flags.version ? { version: flags.version } : {}),
        });
        const p = r.parameters;
        return print(flags, resultJson(r), () =>
          [
            ...r.outputs.map((o) => `${o.name} ${o.datatype} [${o.shape.join(', ')}] ${showValues(toJson(o))}`),
            `total ${p.total_ms} ms, queue ${p.queue_ms} ms, compute ${p.compute_ms} ms, batch ${p.batch_size}, cache ${p.cache}`,
          ].join('\n'),
        );
      }
      case 'predict': {
        const texts = flags.text ?? [];
        if (texts.length === 0) throw new Error(`--text is required\n\n${USAGE}`);
        const rest = restOnly(client, 'predict');
        const res = await rest.predictTexts(texts, {
          ...(flags.model ? { model: flags.model } : {}),
          ...(flags.k ? { k: Number(flags.k) } : {}),
        });
        return print(flags, res, () =>
          res.results.map((r, i) => `${r.label}\t${r.score.toFixed(4)}\t${texts[i]}`).join('\n'),
        );
      }
      case 'ocr': {
        const rest = restOnly(client, 'ocr');
        const model = flags.model ?? 'ocr';
        const res = await rest.predictImages<unknown>([readFileSync(need(args[0], 'an image file'))], { model });
        return print(flags, res, () => {
          const first = res.results[0];
          const lines = (Array.isArray(first) ? first : [first]) as { text: string; score: number }[];
          return lines.map((l) => `${l.text}\t(${l.score.toFixed(3)})`).join('\n');
        });
      }
      case 'perf': {
        const model = need(args[0], 'a model name');
        const metadata = await client.modelMetadata(model);
        const inputs = flags.input?.length ? flags.input.map((s) => parseInput(s, metadata)) : zeroInputs(metadata);
        const steps = [];
        if (!flags.json)
          process.stdout.write(
            'concurrency  req/s      p50 ms    p90 ms    p99 ms    server queue ms  compute ms  errors\n',
          );
        for (const c of flags.concurrency.split(',').map(Number)) {
          const s = await perfStep(client, model, inputs, c, Number(flags.duration));
          steps.push(s);
          if (!flags.json)
            process.stdout.write(
              `${String(c).padEnd(12)} ${String(s.throughput).padEnd(10)} ${String(s.p50_ms).padEnd(9)} ${String(s.p90_ms).padEnd(9)} ${String(s.p99_ms).padEnd(9)} ${String(s.server_queue_ms).padEnd(16)} ${String(s.server_compute_ms).padEnd(11)} ${s.errors}\n`,
            );
        }
        if (flags.json) print(flags, { model, protocol: flags.protocol, steps }, () => '');
        return;
      }
      default:
        throw new Error(`unknown command '${command ?? ''}'\n\n${USAGE}`);
    }
  } finally {
    client.close();
  }
}

function restOnly(client: InferenceApi, command: string): InferenceClient {
  if (!(client instanceof InferenceClient))
    throw new Error(`'${command}' uses /predict, which is REST only: leave out --protocol grpc`);
  return client;
}

async function main(argv: string[]): Promise<number> {
  const { values: flags, positionals } = parseArgs({ args: argv, options, allowPositionals: true });
  if (flags.help || positionals.length === 0) {
    process.stdout.write(USAGE);
    return flags.help ? 0 : 2;
  }
  const [command, ...args] = positionals;
  try {
    await run(command, args, flags);
    return 0;
  } catch (err) {
    const e = err as Error;
    const code = err instanceof TesseraError ? ` [${err.status} ${err.code}]` : '';
    process.stderr.write(
      flags.json
        ? `${JSON.stringify({ error: e.message, ...(err instanceof TesseraError ? { code: err.code, status: err.status } : {}) })}\n`
        : `tessera: ${e.message}${code}\n`,
    );
    return 1;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
