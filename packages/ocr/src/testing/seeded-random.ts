/** mulberry32, the generator the model zoo uses, so the generated test set is the same on every run. */
export { seededRandom } from '@tessera/model-zoo';

export type Random = () => number;

export const pick = <T>(rand: Random, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
export const between = (rand: Random, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
