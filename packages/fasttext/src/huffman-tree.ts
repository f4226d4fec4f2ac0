/**
 * The binary tree of fastText's hierarchical softmax, rebuilt from the label counts stored in
 * the model: the output matrix holds one row per inner node, so a label's probability is only
 * recoverable with the exact tree training used. Leaves are labels 0..n-1 (dictionary order,
 * falling counts); inner node k is tree node n + k and owns output row k; the root is 2n-2.
 */
export interface HuffmanTree {
  labels: number;
  /** Per label, the output rows (inner nodes) from its parent up to the root. */
  paths: number[][];
  /** Per label and step, true when the child taken is its parent's right child (probability σ(x)), else 1 - σ(x). */
  codes: boolean[][];
  /** Children of every tree node (-1 for leaves), indexed by tree node. */
  left: number[];
  right: number[];
}

/**
 * Huffman's two-queue construction as fastText performs it: with the leaves sorted by falling
 * count (as fastText's dictionary keeps labels; like fastText, unchecked), the next smallest is
 * either the last unused leaf or the oldest unused inner node, ties going to the inner node.
 * The first of each pair becomes the left child.
 */
export function buildHuffmanTree(counts: readonly number[]): HuffmanTree {
  const n = counts.length;
  if (n < 2) throw new RangeError(`hierarchical softmax needs at least 2 labels, got ${n}`);
  const total = 2 * n - 1;
  // Unbuilt inner nodes weigh "infinity" (fastText: 1e15) so leaves are taken first.
  const count = Array.from({ length: total }, (_, i) => (i < n ? counts[i]! : 1e15));
  const parent = new Array<number>(total).fill(-1);
  const left = new Array<number>(total).fill(-1);
  const right = new Array<number>(total).fill(-1);
  const isRight = new Array<boolean>(total).fill(false);
  let leaf = n - 1;
  let inner = n;
  const takeSmallest = () => (leaf >= 0 && count[leaf]! < count[inner]! ? leaf-- : inner++);
  for (let node = n; node < total; node++) {
    const a = takeSmallest();
    const b = takeSmallest();
    left[node] = a;
    right[node] = b;
    count[node] = count[a]! + count[b]!;
    parent[a] = node;
    parent[b] = node;
    isRight[b] = true;
  }
  const paths: number[][] = [];
  const codes: boolean[][] = [];
  for (let i = 0; i < n; i++) {
    const path: number[] = [];
    const code: boolean[] = [];
    for (let j = i; parent[j] !== -1; j = parent[j]!) {
      path.push(parent[j]! - n);
      code.push(isRight[j]!);
    }
    paths.push(path);
    codes.push(code);
  }
  return { labels: n, paths, codes, left, right };
}
