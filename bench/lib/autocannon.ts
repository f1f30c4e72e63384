/**
 * autocannon, typed locally (the package ships no types and no @types package is installed), imported through a
 * non-literal specifier so no ambient `declare module` leaks into the rest of the project.
 */

export interface AutocannonRequest {
  readonly method?: 'GET' | 'POST';
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export interface AutocannonOptions {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly connections: number;
  readonly duration: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Cycled through in order by every connection. */
  readonly requests?: readonly AutocannonRequest[];
  /** Requests per second across all connections (each connection gets an equal share per second). */
  readonly overallRate?: number;
  readonly workers?: number;
  /** Seconds. */
  readonly timeout?: number;
}

interface Histogram {
  readonly average: number;
  readonly mean: number;
  readonly stddev: number;
  readonly min: number;
  readonly max: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p99_9: number;
}

export interface AutocannonResult {
  readonly duration: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly '2xx': number;
  readonly mismatches: number;
  readonly resets: number;
  /** Milliseconds, 2xx responses only. */
  readonly latency: Histogram & { readonly totalCount: number };
  /** Completed requests per second, sampled each second; `sent` is the number of requests sent. */
  readonly requests: Histogram & { readonly total: number; readonly sent: number };
  readonly statusCodeStats: Record<string, { count: number }>;
}

export type Autocannon = (options: AutocannonOptions) => PromiseLike<AutocannonResult>;

const dynamicImport = (specifier: string): Promise<unknown> => import(specifier);

export async function loadAutocannon(): Promise<Autocannon> {
  return ((await dynamicImport('autocannon')) as { default: Autocannon }).default;
}
