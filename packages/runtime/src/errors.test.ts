import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServiceError } from '@tessera/contract';
import { classifyRunError, isOutOfMemoryError } from './index.js';

const oom = [
  // CPU arena (BFC) under an address-space limit, as onnxruntime-node 1.29 reports it.
  "Non-zero status code returned while running Tile node. Name:'' Status Message: /onnxruntime_src/onnxruntime/core/framework/bfc_arena.cc:359 void* onnxruntime::BFCArena::AllocateRawInternal(size_t, bool, onnxruntime::Stream*) Failed to allocate memory for requested buffer of size 2147483648",
  // CPU without the arena.
  "Non-zero status code returned while running Tile node. Name:'Tile_0' Status Message: std::bad_alloc",
  'Available memory of 1048576 is smaller than requested bytes of 4194304',
  'CUDA failure 2: out of memory ; GPU=0 ; hostname=x ; expr=cudaMalloc(&p, size);',
  'CUBLAS failure 3: CUBLAS_STATUS_ALLOC_FAILED ; GPU=0',
  'CUDA error cudaErrorMemoryAllocation:out of memory',
  'Out Of Memory',
];

test('allocation failures are recognised as out of memory', () => {
  for (const message of oom) {
    assert.equal(isOutOfMemoryError(new Error(message)), true, message);
    assert.equal(classifyRunError(new Error(message)).code, 'out_of_memory', message);
  }
  assert.equal(isOutOfMemoryError(new ServiceError('out_of_memory', 'batch too big')), true);
  assert.equal(isOutOfMemoryError(new Error('indices element out of data bounds')), false);
  assert.equal(isOutOfMemoryError(undefined), false);
});

test('inputs the model refuses are model_rejected_input with the ORT message', () => {
  const rejected = [
    "Non-zero status code returned while running Gather node. Name:'Gather_0' Status Message: indices element out of data bounds, idx=10 must be within the inclusive range [-4,3]",
    'Got invalid dimensions for input: x for the following indices\n index: 1 Got: 3 Expected: 4\n Please fix either the inputs/outputs or the model.',
    'Unexpected input data type. Actual: (tensor(double)) , expected: (tensor(float))',
    "Non-zero status code returned while running Add node. Name:'a' Status Message: Attempting to broadcast an axis by a dimension other than 1. 3 by 4",
    'Non-zero status code returned while running Reshape node. Status Message: The input tensor cannot be reshaped to the requested shape. Input shape:{6}, requested shape:{4}',
    "input 'x' is missing in 'feeds'.",
  ];
  for (const message of rejected) {
    const err = classifyRunError(new Error(message));
    assert.equal(err.code, 'model_rejected_input', message);
    assert.equal(err.message, message.trim());
  }
});

test('anything else is inference_failed, and service errors pass through', () => {
  const err = classifyRunError(
    new Error('Non-zero status code returned while running Foo node. Status Message: kernel exploded'),
  );
  assert.equal(err.code, 'inference_failed');
  assert.match(err.message, /kernel exploded/);
  assert.equal(classifyRunError('plain string').message, 'plain string');
  const original = new ServiceError('timeout', 'slow');
  assert.equal(classifyRunError(original), original);
});
