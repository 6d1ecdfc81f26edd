// Turns @kubernetes/client-node errors (multi-line "HTTP-Code: ... Body: ... Headers: ...") into one
// line a user can read: "get PersistentVolumeClaim shop/data: 403 pvc is forbidden: ...".

export function statusCode(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'number') {
    return (err as { code: number }).code;
  }
  return undefined;
}

export const isNotFound = (err: unknown): boolean => statusCode(err) === 404;
export const isConflict = (err: unknown): boolean => statusCode(err) === 409;

/** Worth retrying: throttling, server trouble, dropped connections. */
export function isTransient(err: unknown): boolean {
  const code = statusCode(err);
  if (code === 429 || (code !== undefined && code >= 500)) return true;
  const text =
    err instanceof Error ? `${err.message} ${(err as { cause?: { code?: string } }).cause?.code ?? ''}` : '';
  return /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|socket hang up|fetch failed|UND_ERR/i.test(text);
}

function bodyMessage(body: unknown): string | undefined {
  let b: unknown = body;
  if (typeof body === 'string') {
    try {
      b = JSON.parse(body);
    } catch {
      return body.slice(0, 300);
    }
  }
  if (typeof b === 'object' && b !== null && typeof (b as { message?: unknown }).message === 'string') {
    return (b as { message: string }).message;
  }
  return undefined;
}

export class KubeApiError extends Error {
  readonly code: number | undefined;
  constructor(what: string, err: unknown) {
    const code = statusCode(err);
    const detail =
      bodyMessage((err as { body?: unknown })?.body) ??
      (err instanceof Error ? err.message.split('\n')[0] : String(err)) ??
      'unknown error';
    super(`${what}: ${code !== undefined ? `${code} ` : ''}${detail}`);
    this.name = 'KubeApiError';
    this.code = code;
  }
}
