import { z } from 'zod';
import { ParametersSchema, RepositoryIndexEntrySchema, RequestOutputSchema } from '@tessera/contract';

/**
 * Bodies and answers of Tessera's own routes (the OIP ones are in @tessera/contract's
 * oip-schemas.ts). Routes validate their requests with these; the OpenAPI document shows them.
 */

export const ModelParamsSchema = z.object({
  name: z.string().min(1).describe('The model name.'),
  version: z.string().min(1).optional().describe('A version of the model; its newest when absent.'),
});

export const PredictRequestSchema = z
  .object({
    model: z.string().optional().describe('A model or pipeline name (default: DEFAULT_MODEL).'),
    version: z.string().optional(),
    texts: z.array(z.string()).optional().describe('For text pipelines (lid176): one item per text.'),
    images: z
      .array(z.string())
      .optional()
      .describe('For image pipelines (ocr, ocr-line): PNG or JPEG images, base64 or data: URLs.'),
    inputs: z
      .unknown()
      .optional()
      .meta({
        description:
          'For tensor models: OIP input objects, an object of input name to a batch-first nested array, or (one input) that array.',
        anyOf: [
          { type: 'array', items: { $ref: '#/components/schemas/RequestInput' } },
          { type: 'object', additionalProperties: { type: 'array' } },
          { type: 'array' },
        ],
      }),
    outputs: z.array(z.union([z.string(), RequestOutputSchema])).optional(),
  })
  .meta({
    id: 'PredictRequest',
    description:
      'A pipeline takes texts or images (with its own options, such as k for lid176); a tensor model takes inputs.',
    examples: [{ model: 'lid176', texts: ['Ceci est une phrase.', 'Das ist ein Satz.'] }],
  });

/** /predict's payload fields: a problem there is the input's (`invalid_input`), not the envelope's. */
export const PREDICT_CONTENT = ['texts', 'images', 'inputs', 'outputs'] as const;

const TimingSchema = z.object({
  total_ms: z.number(),
  queue_ms: z.number(),
  compute_ms: z.number(),
  batch_size: z.number(),
  inference_calls: z.int().optional(),
});

export const PredictResponseSchema = z
  .object({
    model: z.string(),
    version: z.string().optional(),
    versions: z.record(z.string(), z.string()).optional().describe('A pipeline: the version of each model it ran.'),
    results: z
      .array(z.unknown())
      .describe("One result per text, image or batch item: a pipeline's own object, or output name → value."),
    latency_ms: z.number(),
    timing: TimingSchema,
    execution_provider: z.string(),
    cache: z.enum(['hit', 'miss', 'off']).optional(),
  })
  .meta({ id: 'PredictResponse' });

export const RepositoryIndexRequestSchema = z
  .object({ ready: z.boolean().optional().describe('Only the models ready for inference.') })
  .optional()
  .meta({ id: 'RepositoryIndexRequest' });

export const RepositoryModelRequestSchema = z
  .object({ parameters: ParametersSchema.optional() })
  .optional()
  .meta({ id: 'RepositoryModelRequest' });

export const RepositoryIndexSchema = z.array(RepositoryIndexEntrySchema).meta({ id: 'RepositoryIndex' });

export const LoginRequestSchema = z
  .object({ key: z.string().describe('An API key with the admin scope.') })
  .meta({ id: 'LoginRequest' });

export const EmptyObjectSchema = z.object({}).meta({ id: 'Empty' });

export const LiveSchema = z.object({ live: z.literal(true) }).meta({ id: 'Live' });

export const ReadinessSchema = z
  .object({
    ready: z.boolean(),
    reason: z.string().optional(),
    error: z.string().optional(),
    redis: z.boolean(),
    workers: z.int(),
  })
  .meta({ id: 'Readiness' });

export const HealthSchema = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    error: z.string().optional(),
    replica: z.string(),
    redis: z.boolean(),
    workers: z.array(z.looseObject({ id: z.string(), models: z.array(z.string()) })),
  })
  .meta({ id: 'Health' });

export const OipReadySchema = z
  .object({ ready: z.boolean(), error: z.string().optional() })
  .meta({ id: 'ServerReady' });

export const ModelReadySchema = z
  .object({ name: z.string(), ready: z.boolean(), error: z.string().optional() })
  .meta({ id: 'ModelReady' });

export const StatisticsSchema = z
  .object({
    model_stats: z.array(
      z.looseObject({
        name: z.string(),
        version: z.string(),
        inference_count: z.number(),
        execution_count: z.number(),
        last_inference: z.number(),
        inference_stats: z.record(z.string(), z.object({ count: z.number(), ns: z.number() })),
        batch_stats: z.array(z.looseObject({ batch_size: z.number() })),
      }),
    ),
  })
  .meta({ id: 'Statistics', description: "Triton's statistics extension." });

export const ModelConfigSchema = z
  .looseObject({ name: z.string(), platform: z.string(), max_batch_size: z.int() })
  .meta({ id: 'ModelConfig', description: "Triton's model configuration (model_config.proto as JSON)." });

export const QueueStatusSchema = z
  .looseObject({
    model: z.string(),
    paused: z.boolean(),
    counts: z.record(z.string(), z.number()),
    in_flight_items: z.number(),
    removed: z.number().optional(),
  })
  .meta({ id: 'QueueStatus' });

export const WhoamiSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    scopes: z.array(z.string()),
    ip: z.string().optional(),
    models: z.array(z.string()).optional(),
    priority: z.object({ min: z.int(), max: z.int() }).optional(),
    rate_limit: z.number().optional(),
  })
  .meta({ id: 'Whoami' });

export type PredictResponse = z.infer<typeof PredictResponseSchema>;
export type Whoami = z.infer<typeof WhoamiSchema>;
export type ModelReady = z.infer<typeof ModelReadySchema>;
