import { z } from 'zod';
import { DATATYPES } from './datatypes.js';

/**
 * The Open Inference Protocol's REST bodies (the spec's `inference_rest.md`) as zod schemas: the
 * API validates requests with them and the OpenAPI document is generated from them. Each schema
 * named with `meta({ id })` becomes a component of the document.
 *
 * Tensor `data` is never walked here: the request path reads it once, element by element, in
 * validate.ts (ranges, shapes, byte sizes). Its schema says what the document shows.
 */

/**
 * Extension parameters: OIP leaves their values open. A loose object rather than a record, so
 * that parsing does not visit each key (each parameter is read where it is used).
 */
export const ParametersSchema = z
  .looseObject({})
  .meta({ id: 'Parameters', description: 'Extension parameters, a JSON object.' });

/** `data` as the document shows it: a flat or nested array. Parsed as anything, read in validate.ts. */
export const TensorDataSchema = z.unknown().meta({
  id: 'TensorData',
  description:
    'Tensor elements in row-major order, flat or nested as the shape (numbers, booleans, or strings for 64-bit integers).',
  type: 'array',
  items: {
    anyOf: [{ $ref: '#/components/schemas/TensorData' }, { type: 'number' }, { type: 'string' }, { type: 'boolean' }],
  },
});

export const DatatypeSchema = z.enum(DATATYPES).meta({ id: 'Datatype' });

export const RequestInputSchema = z
  .object({
    name: z.string(),
    shape: z.array(z.int().min(0)),
    datatype: DatatypeSchema,
    parameters: ParametersSchema.optional().describe(
      'binary_data_size (integer): the tensor travels as that many raw little-endian bytes after the JSON header (binary tensor data extension), and `data` is absent.',
    ),
    data: TensorDataSchema.optional(),
  })
  .meta({ id: 'RequestInput' });

export const RequestOutputSchema = z
  .object({
    name: z.string(),
    parameters: ParametersSchema.optional().describe(
      'binary_data (boolean): return this output as raw bytes; classification (integer): the top-k classes as "score:index[:label]" strings.',
    ),
  })
  .meta({ id: 'RequestOutput' });

export const InferenceRequestSchema = z
  .object({
    id: z.string().optional(),
    parameters: ParametersSchema.optional().describe(
      'binary_data_output (boolean), idempotency_key (string), priority (integer, 1 is the highest), timeout (microseconds), cache (boolean).',
    ),
    inputs: z.array(RequestInputSchema).min(1),
    outputs: z.array(RequestOutputSchema).optional(),
  })
  .meta({
    id: 'InferenceRequest',
    description:
      'With the binary tensor data extension the body is this JSON object, Inference-Header-Content-Length bytes long, followed by the raw tensor bytes.',
  });

export const ResponseOutputSchema = z
  .object({
    name: z.string(),
    shape: z.array(z.int()),
    datatype: z.enum([...DATATYPES, 'BYTES']).describe('BYTES only for classification results.'),
    parameters: ParametersSchema.optional(),
    data: z
      .array(z.union([z.number(), z.boolean(), z.string()]))
      .optional()
      .describe('Absent when the output travels as binary data (parameters.binary_data_size).'),
  })
  .meta({ id: 'ResponseOutput' });

export const InferenceResponseSchema = z
  .object({
    model_name: z.string(),
    model_version: z.string().optional(),
    id: z.string().optional(),
    parameters: ParametersSchema.optional().describe(
      'The request timings (total_ms, queue_ms, compute_ms, batch_size), execution_provider, cache.',
    ),
    outputs: z.array(ResponseOutputSchema),
  })
  .meta({ id: 'InferenceResponse' });

export const MetadataTensorSchema = z
  .object({
    name: z.string(),
    datatype: DatatypeSchema,
    shape: z.array(z.int()).describe('-1 for a variable dimension.'),
  })
  .meta({ id: 'MetadataTensor' });

export const ModelMetadataResponseSchema = z
  .object({
    name: z.string(),
    versions: z.array(z.string()).optional(),
    platform: z.string(),
    inputs: z.array(MetadataTensorSchema),
    outputs: z.array(MetadataTensorSchema),
    parameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  })
  .meta({ id: 'ModelMetadataResponse' });

export const ServerMetadataResponseSchema = z
  .object({ name: z.string(), version: z.string(), extensions: z.array(z.string()) })
  .meta({ id: 'ServerMetadataResponse' });

/** Triton model-repository extension: one row of POST /v2/repository/index. */
export const RepositoryIndexEntrySchema = z
  .object({
    name: z.string(),
    version: z.string().optional(),
    state: z.enum(['READY', 'UNAVAILABLE', 'LOADING', 'UNLOADING']).optional(),
    reason: z.string().optional(),
  })
  .meta({ id: 'RepositoryIndexEntry' });
