export interface RepositoryProblem {
  /** The file or directory the problem is about. */
  file: string;
  message: string;
}

/**
 * Everything wrong with a model repository, found in one pass, so that an operator fixes
 * all of it at once instead of one restart per mistake.
 */
export class RepositoryError extends Error {
  readonly problems: RepositoryProblem[];

  constructor(problems: RepositoryProblem[]) {
    const lines = problems.map((p) => `  ${p.file}: ${p.message}`);
    super(`model repository has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${lines.join('\n')}`);
    this.name = 'RepositoryError';
    this.problems = problems;
  }
}
