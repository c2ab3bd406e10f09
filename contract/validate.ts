// Turning zod failures into messages that name the offending field.
import type { z } from 'zod';
import { requests, isRequestName, type RequestName, type RequestParams, type RequestResult } from './requests.js';
import { events, isEventName, type EventName, type EventPayload } from './events.js';
import type { ErrorCode } from './schemas.js';

/** A failed request, as the UI sees it (host.request rejects with this). */
export class BitLensError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BitLensError';
  }
}

export function formatIssues(where: string, error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      return `${where}${path ? `.${path}` : ''}: ${issue.message}`;
    })
    .join('; ');
}

export function parseRequestParams<K extends RequestName>(name: K, params: unknown): z.output<(typeof requests)[K]['params']> {
  const parsed = requests[name].params.safeParse(params ?? {});
  if (!parsed.success) throw new BitLensError('invalid_request', formatIssues(name, parsed.error));
  return parsed.data as z.output<(typeof requests)[K]['params']>;
}

/** Validate an untrusted request (IPC or WebSocket): its name and its params. */
export function parseRequest(name: unknown, params: unknown): { name: RequestName; params: RequestParams<RequestName> } {
  if (!isRequestName(name)) throw new BitLensError('invalid_request', `unknown request ${JSON.stringify(String(name)).slice(0, 80)}`);
  return { name, params: parseRequestParams(name, params) };
}

export function parseRequestResult<K extends RequestName>(name: K, result: unknown): RequestResult<K> {
  const parsed = requests[name].result.safeParse(result);
  if (!parsed.success) throw new BitLensError('internal', formatIssues(`${name} result`, parsed.error));
  return parsed.data as RequestResult<K>;
}

export function parseEvent<K extends EventName>(name: K, payload: unknown): EventPayload<K> {
  if (!isEventName(name)) throw new BitLensError('invalid_request', `unknown event ${String(name)}`);
  const parsed = events[name].safeParse(payload);
  if (!parsed.success) throw new BitLensError('internal', formatIssues(name, parsed.error));
  return parsed.data as EventPayload<K>;
}

/** The error as it crosses a process or socket boundary. */
export function toRequestError(error: unknown): { code: ErrorCode; message: string } {
  if (error instanceof BitLensError) return { code: error.code, message: error.message };
  return { code: 'internal', message: error instanceof Error ? error.message : String(error) };
}
