import { ServiceError } from '@tessera/contract';

/**
 * Allocation failures as ONNX Runtime and the libraries under it word them: the CPU/BFC arena,
 * the CUDA allocator, cuBLAS/cuDNN workspaces, C++ new, and V8 when a result buffer cannot be made.
 */
const OUT_OF_MEMORY = [
  /failed to allocate memory/i,
  /available memory of .* is smaller than requested/i,
  /out[ _]of[ _]memory/i,
  /CUBLAS_STATUS_ALLOC_FAILED/i,
  /CUDNN_STATUS_ALLOC_FAILED/i,
  /std::bad_alloc/i,
  /cudaErrorMemoryAllocation/i,
  /array buffer allocation failed/i,
];

/**
 * Run-time failures caused by what was fed in rather than by the runtime: ORT's INVALID_ARGUMENT
 * checks on feeds, and kernels refusing indices or shapes the graph cannot handle.
 */
const REJECTED_INPUT = [
  /INVALID_ARGUMENT/,
  /invalid dimensions for input/i,
  /invalid rank for input/i,
  /unexpected input data type/i,
  /input '.*' is missing in 'feeds'/i,
  /does not match data length/i,
  /out of (data )?bounds/i,
  /index .*out of range/i,
  /shape mismatch/i,
  /dimension mismatch/i,
  /incompatible dimensions/i,
  /cannot be reshaped/i,
  /broadcast/i,
];

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : String(err);
}

export function isOutOfMemoryError(err: unknown): boolean {
  if (err instanceof ServiceError && err.code === 'out_of_memory') return true;
  const message = messageOf(err);
  return OUT_OF_MEMORY.some((re) => re.test(message));
}

/** Maps a failed run to the error the service answers with; ServiceErrors pass through. */
export function classifyRunError(err: unknown): ServiceError {
  if (err instanceof ServiceError) return err;
  const message = messageOf(err).trim();
  if (isOutOfMemoryError(err)) {
    return new ServiceError('out_of_memory', `inference ran out of memory: ${message}`, { cause: err });
  }
  if (REJECTED_INPUT.some((re) => re.test(message))) {
    return new ServiceError('model_rejected_input', message, { cause: err });
  }
  return new ServiceError('inference_failed', message, { cause: err });
}
