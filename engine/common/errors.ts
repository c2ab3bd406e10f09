// Errors raised while reading a model folder. Hosts show `message` as is, so it always names the
// file, the tensor (where there is one) and the problem.

export class ModelFormatError extends Error {
  readonly file: string;
  readonly tensor?: string;

  constructor(file: string, problem: string, tensor?: string) {
    super(tensor === undefined ? `${file}: ${problem}` : `${file}: tensor '${tensor}': ${problem}`);
    this.name = 'ModelFormatError';
    this.file = file;
    if (tensor !== undefined) this.tensor = tensor;
  }
}
