/** One line of the quantizer's table: what happened to a node and why. */
export interface NodeReport {
  node: string;
  op: string;
  /** The replacement (e.g. 'MatMulInteger'), or undefined when the node was left in FP32. */
  as?: string;
  reason: string;
  /** Weight elements the node carries (0 when its weight is not a constant). */
  weights: number;
}

/** The table printed by the CLI: quantized nodes first, then skipped ones grouped by reason. */
export function formatReport(rows: readonly NodeReport[]): string {
  const quantized = rows.filter((r) => r.as);
  const skipped = rows.filter((r) => !r.as);
  const lines = [`quantized ${quantized.length} node(s), left ${skipped.length} in FP32`, ''];
  const table = (list: readonly NodeReport[]) => {
    const w = Math.max(4, ...list.map((r) => r.node.length));
    for (const r of list)
      lines.push(
        `  ${r.node.padEnd(w)}  ${r.op.padEnd(12)} ${(r.as ?? 'FP32').padEnd(24)} ${String(r.weights).padStart(9)}  ${r.reason}`,
      );
  };
  if (quantized.length) {
    lines.push(
      `  ${'node'.padEnd(Math.max(4, ...quantized.map((r) => r.node.length)))}  ${'op'.padEnd(12)} ${'as'.padEnd(24)} ${'weights'.padStart(9)}  why`,
    );
    table(quantized);
  }
  const reasons = new Map<string, NodeReport[]>();
  for (const r of skipped) reasons.set(r.reason, [...(reasons.get(r.reason) ?? []), r]);
  if (reasons.size) lines.push('', 'left in FP32:');
  for (const [reason, list] of reasons)
    lines.push(`  ${String(list.length).padStart(4)} × ${[...new Set(list.map((r) => r.op))].join('/')}: ${reason}`);
  return lines.join('\n');
}
