/**
 * The httpGet probe (pkg/probe/http/http.go DoHTTPProbe): 200–399 is success, a 3xx that was not
 * followed (a redirect to another host) is a success with a warning, anything else a failure whose
 * message carries the status code but not the body (kubernetes#99425).
 */
import { httpGet, HttpGetError, type HttpGetRequest } from './http-get.js';
import type { ProbeOutcome } from './types.js';

/** Runs one HTTP probe; never throws. */
export async function httpProbe(req: HttpGetRequest, timeoutMs: number, signal?: AbortSignal): Promise<ProbeOutcome> {
  try {
    const res = await httpGet(req, { timeoutMs, signal });
    if (res.status >= 200 && res.status < 400) {
      if (res.status >= 300) return { result: 'warning', output: `Probe terminated redirects, Response body: ${res.body}` };
      return { result: 'success', output: res.body };
    }
    return { result: 'failure', output: `HTTP probe failed with statuscode: ${res.status}` };
  } catch (err) {
    // http.go: "Convert errors into failures to catch timeouts."
    return { result: 'failure', output: err instanceof HttpGetError ? err.message : String(err) };
  }
}
