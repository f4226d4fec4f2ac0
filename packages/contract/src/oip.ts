import type { z } from 'zod';
import type {
  InferenceRequestSchema,
  InferenceResponseSchema,
  MetadataTensorSchema,
  ModelMetadataResponseSchema,
  RepositoryIndexEntrySchema,
  RequestInputSchema,
  RequestOutputSchema,
  ResponseOutputSchema,
  ServerMetadataResponseSchema,
} from './oip-schemas.js';

/** Open Inference Protocol (KServe v2) REST shapes, typed from their schemas (oip-schemas.ts). */
export type Parameters = Record<string, string | number | boolean>;
export type RequestInput = z.infer<typeof RequestInputSchema>;
export type RequestOutput = z.infer<typeof RequestOutputSchema>;
export type InferenceRequest = z.infer<typeof InferenceRequestSchema>;
export type ResponseOutput = z.infer<typeof ResponseOutputSchema>;
export type InferenceResponse = z.infer<typeof InferenceResponseSchema>;
export type MetadataTensor = z.infer<typeof MetadataTensorSchema>;
export type ModelMetadataResponse = z.infer<typeof ModelMetadataResponseSchema>;
export type ServerMetadataResponse = z.infer<typeof ServerMetadataResponseSchema>;
export type RepositoryIndexEntry = z.infer<typeof RepositoryIndexEntrySchema>;
