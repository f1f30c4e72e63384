import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';

/** One request exactly as it goes on the wire: the path is sent as is (no URL normalisation, unlike fetch). */
export interface WireRequest {
  readonly method: string;
  /** Path and query, raw: `..`, `%2F` and bad percent-encoding reach the server untouched. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly body?: Buffer | undefined;
  /** Sends the body with `Transfer-Encoding: chunked` (no Content-Length), in pieces of this many bytes. */
  readonly chunkBytes?: number | undefined;
}

export interface WireResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

// Keep-alive sockets make a fuzz run cost one round trip, not a TCP handshake.
const agent = new Agent({ keepAlive: true, maxSockets: 8 });
const BIG_UPLOAD_BYTES = 512 * 1024;

/** Sends a raw request with node:http (fetch would normalise the path and refuse many header values). */
export function send(baseUrl: string, req: WireRequest): Promise<WireResponse> {
  const base = new URL(baseUrl);
  return new Promise<WireResponse>((resolve, reject) => {
    let answered = false;
    // No prototype: a header named `__proto__` or `constructor` is sent like any other.
    const headers = Object.create(null) as Record<string, string | string[]>;
    for (const [k, v] of Object.entries(req.headers)) headers[k] = typeof v === 'string' ? v : [...v];
    if (req.chunkBytes !== undefined) headers['transfer-encoding'] = 'chunked';
    // node:http frames a GET body only when told its length; without it the bytes would read as the next request.
    else if (req.body !== undefined) headers['content-length'] = String(req.body.length);
    // A large upload may be cut off by the server after its answer: such a request gets a socket of its own, whose late
    // write errors are expected and dropped.
    const large = (req.body?.length ?? 0) > BIG_UPLOAD_BYTES;
    const r = httpRequest({ host: base.hostname, port: base.port, method: req.method, path: req.path, headers, agent: large ? false : agent }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    // A server that answers before reading the whole body (413) may reset the upload; the answer is what counts.
    r.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (large) r.on('socket', (socket) => socket.on('error', () => undefined));
    const body = req.body;
    if (body === undefined) {
      r.end();
    } else if (req.chunkBytes !== undefined) {
      const step = Math.max(1, req.chunkBytes);
      for (let i = 0; i < body.length; i += step) r.write(body.subarray(i, i + step));
      r.end();
    } else {
      r.end(body);
    }
  });
}

/** Closes the pooled sockets (afterAll), so the plane can shut down at once. */
export function closeClient(): void {
  agent.destroy();
}
