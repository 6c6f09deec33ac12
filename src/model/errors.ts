// Typed errors for everything a user can hand us. Each carries the file (and tensor, when one is
// concerned) so the UI can show the one-line message next to the culprit.

export type ModelErrorCode =
  | 'truncated' // the file ends before a declared region
  | 'bad-header' // unparsable or inconsistent header
  | 'bad-json' // a JSON file that does not parse or has the wrong shape
  | 'bad-tensor' // offsets, shapes, dtypes or byte counts that do not agree
  | 'missing' // a required file or tensor is absent
  | 'unsupported' // a valid model this tool does not handle
  | 'mismatch'; // config and tensors (or two files) disagree

export class ModelFormatError extends Error {
  override readonly name = 'ModelFormatError';
  constructor(
    readonly code: ModelErrorCode,
    readonly file: string,
    message: string,
    readonly tensor?: string,
  ) {
    // One line, always naming the file; the tensor too when there is one.
    super(`${file}${tensor ? ` (${tensor})` : ''}: ${message}`.replace(/\s*\n\s*/g, ' '));
  }
}
