// RFC 9457 problem details with a stable machine-readable `code`.
// Every error that reaches a client goes through AppError so the shape never varies.

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly extensions: Record<string, unknown>;

  constructor(status: number, code: string, detail: string, extensions: Record<string, unknown> = {}, title?: string) {
    super(detail);
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.title = title ?? defaultTitle(status);
    this.extensions = extensions;
  }

  toProblem(instance?: string): ProblemDetails {
    return {
      type: `https://custos.dev/problems/${this.code}`,
      title: this.title,
      status: this.status,
      code: this.code,
      detail: this.message,
      ...(instance ? { instance } : {}),
      ...this.extensions,
    };
  }
}

function defaultTitle(status: number): string {
  switch (status) {
    case 400: return 'Bad Request';
    case 401: return 'Unauthorized';
    case 403: return 'Forbidden';
    case 404: return 'Not Found';
    case 409: return 'Conflict';
    case 413: return 'Payload Too Large';
    case 415: return 'Unsupported Media Type';
    case 422: return 'Unprocessable Content';
    case 429: return 'Too Many Requests';
    case 503: return 'Service Unavailable';
    default: return status >= 500 ? 'Internal Server Error' : 'Error';
  }
}

export const errors = {
  validation: (detail: string, issues?: unknown) =>
    new AppError(400, 'validation_failed', detail, issues === undefined ? {} : { errors: issues }),
  unauthenticated: (detail = 'A valid bearer token is required') => new AppError(401, 'unauthenticated', detail),
  forbidden: (detail: string) => new AppError(403, 'forbidden', detail),
  notFound: (what: string, id: string) => new AppError(404, 'not_found', `${what} '${id}' does not exist`),
  conflict: (code: string, detail: string, ext: Record<string, unknown> = {}) => new AppError(409, code, detail, ext),
  unavailable: (code: string, detail: string) => new AppError(503, code, detail),
};
