export interface Recognized {
  text: string;
  /** Mean probability of the characters kept; 0 when nothing was read. */
  score: number;
}

/**
 * The recogniser's class list from its dictionary file, laid out as PaddleOCR's CTCLabelDecode
 * does with use_space_char: class 0 is the CTC blank, then one class per dictionary line, then
 * a space. (@gutenye/ocr splits the file on '\n' alone; the two agree on the shipped file,
 * which has no final newline and no carriage returns.)
 */
export function ctcCharacters(dictionary: string): string[] {
  const lines = dictionary.split('\n').map((line) => line.replace(/\r$/, ''));
  if (lines.at(-1) === '') lines.pop(); // a final newline ends the last line, it adds none
  return ['', ...lines, ' '];
}

/**
 * Greedy CTC decoding of one line from the recogniser's best class per time step (`ids`) and
 * that class's probability (`scores`): repeats merged, blanks dropped. The score is the mean of
 * the probabilities of the steps kept, summed in order in double precision, exactly as
 * PaddleOCR's CTCLabelDecode and @gutenye/ocr's decode compute it.
 */
export function ctcDecode(
  ids: ArrayLike<number | bigint>,
  scores: ArrayLike<number>,
  steps: number,
  characters: readonly string[],
): Recognized {
  if (ids.length < steps || scores.length < steps)
    throw new RangeError(`${ids.length} ids and ${scores.length} scores cannot hold ${steps} steps`);
  let text = '';
  let sum = 0;
  let kept = 0;
  let previous = -1;
  for (let t = 0; t < steps; t++) {
    const id = Number(ids[t]!);
    if (!Number.isInteger(id) || id < 0 || id >= characters.length)
      throw new RangeError(`class ${id} at step ${t} is outside the ${characters.length} classes of the dictionary`);
    if (id !== 0 && id !== previous) {
      text += characters[id]!;
      sum += scores[t]!;
      kept++;
    }
    previous = id;
  }
  return { text, score: kept === 0 ? 0 : sum / kept };
}
