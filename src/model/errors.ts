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

/** Any character a display may break a line at. */
const LINE_BREAKS = /\s*[\n\r\v\f\u0085\u2028\u2029]\s*/g;
/** Tensor names and messages quote what a file says; a hostile file can say a megabyte. */
const MAX_TENSOR_CHARS = 200;
const MAX_MESSAGE_CHARS = 500;

/** `s` cut in the middle to at most `max` characters, never inside a surrogate pair. */
function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  let head = Math.floor(max * 0.8);
  let tail = s.length - (max - head - 1);
  if (/[\ud800-\udbff]/.test(s[head - 1]!)) head--;
  if (/[\udc00-\udfff]/.test(s[tail]!)) tail++;
  return `${s.slice(0, head)}\u2026${s.slice(tail)}`;
}

export class ModelFormatError extends Error {
  override readonly name = 'ModelFormatError';
  constructor(
    readonly code: ModelErrorCode,
    readonly file: string,
    message: string,
    readonly tensor?: string,
  ) {
    // One short line, always naming the file; the tensor too when there is one.
    super(`${file}${tensor ? ` (${clip(tensor, MAX_TENSOR_CHARS)})` : ''}: ${clip(message, MAX_MESSAGE_CHARS)}`.replace(LINE_BREAKS, ' '));
  }
}

/** The message of anything thrown (libraries do not always throw Errors). */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
