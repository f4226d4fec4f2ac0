export interface Recognized {
  text: string;
  /** Mean probability of the characters kept; 0 when nothing was read. */
  score: number;
}

/**
 * The recogniser's class list from its dictionary file, laid out as PaddleOCR's CTCLabelDecode
 * does with use_space_char: class 0 is the CTC blank, then one class per dictionary line, then
 * a space.
 */
export function ctcCharacters(dictionary: string): string[] {
  const lines = dictionary.split('\n').map((line) => line.replace(/\r$/, ''));
  if (lines.at(-1) === '') lines.pop(); // a final newline ends the last line, it adds none
  return ['', ...lines, ' '];
}

/**
 * Greedy CTC decoding of one line: the most likely class per time step, repeats merged and
 * blanks dropped. `probs` holds `steps` rows of `characters.length` probabilities.
 */
export function ctcGreedyDecode(probs: ArrayLike<number>, steps: number, characters: readonly string[]): Recognized {
  const classes = characters.length;
  if (probs.length < steps * classes) throw new RangeError(`${probs.length} probabilities cannot hold ${steps} steps of ${classes} classes`);
  let text = '';
  let sum = 0;
  let kept = 0;
  let previous = -1;
  for (let t = 0; t < steps; t++) {
    const row = t * classes;
    let best = 0;
    let bestP = probs[row]!;
    for (let c = 1; c < classes; c++) {
      const p = probs[row + c]!;
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    if (best !== 0 && best !== previous) {
      text += characters[best]!;
      sum += bestP;
      kept++;
    }
    previous = best;
  }
  return { text, score: kept === 0 ? 0 : sum / kept };
}
