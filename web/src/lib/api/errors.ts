// Turning API errors into what a person reads.
import { Code, ConnectError } from '@connectrpc/connect';
import { BadRequestSchema } from '$gen/google/rpc/error_details_pb';

export type ErrorKind =
  | 'unauthenticated'
  | 'permission'
  | 'not_found'
  | 'invalid'
  | 'conflict'
  | 'precondition'
  | 'unavailable'
  | 'other';

export interface Problem {
  kind: ErrorKind;
  /** A sentence for the person, without the server's code prefix. */
  message: string;
  /** The request field an invalid argument names (snake_case, as in the proto), if any. */
  field?: string;
}

const kinds: Partial<Record<Code, ErrorKind>> = {
  [Code.Unauthenticated]: 'unauthenticated',
  [Code.PermissionDenied]: 'permission',
  [Code.NotFound]: 'not_found',
  [Code.InvalidArgument]: 'invalid',
  [Code.OutOfRange]: 'invalid',
  [Code.AlreadyExists]: 'conflict',
  [Code.FailedPrecondition]: 'precondition',
  [Code.Unavailable]: 'unavailable',
  [Code.DeadlineExceeded]: 'unavailable',
};

/** describe explains err, an error thrown by an API call or anything else. */
export function describe(err: unknown): Problem {
  if (!(err instanceof ConnectError)) {
    return { kind: 'other', message: err instanceof Error ? err.message : String(err) };
  }
  const kind = kinds[err.code] ?? 'other';
  const problem: Problem = { kind, message: sentence(err.rawMessage) || fallback(err.code) };
  if (kind === 'invalid') {
    const violation = err.findDetails(BadRequestSchema)[0]?.fieldViolations[0];
    if (violation?.field) {
      problem.field = violation.field;
      if (violation.description) problem.message = `${label(violation.field)}: ${violation.description}`;
    }
  }
  if (kind === 'unauthenticated') problem.message = 'The API key was not accepted. ' + problem.message;
  if (err.code === Code.Unavailable && /fetch|network/i.test(err.rawMessage)) {
    problem.message = 'The server could not be reached. Is it running?';
  }
  return problem;
}

/** label turns a proto field path ("timeout_seconds", "labels[region]") into words. */
export function label(field: string): string {
  return field.replace(/_/g, ' ');
}

function sentence(s: string): string {
  s = s.trim().replace(/^invalid argument: /, '');
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

function fallback(code: Code): string {
  switch (code) {
    case Code.PermissionDenied:
      return 'Your API key may not do this.';
    case Code.NotFound:
      return 'Not found.';
    case Code.Unavailable:
      return 'The server could not be reached.';
    default:
      return `The request failed (${Code[code]}).`;
  }
}
