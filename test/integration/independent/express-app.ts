import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express } from 'express';

export interface RunningApp {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `app` on an ephemeral loopback port. */
export function listen(app: Express): Promise<RunningApp> {
  return new Promise((resolve, reject) => {
    const server: Server = app.listen(0, '127.0.0.1', (error?: Error) => {
      if (error) return reject(error);
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

/**
 * An Express app whose refusals keep the status and WWW-Authenticate challenge the library chose, with its error code (if
 * any: RFC 6750 section 3.1 sends none when no token came) in JSON; Express's own error page is HTML.
 */
export function resourceServer(configure: (app: Express) => void): Express {
  const app = express();
  configure(app);
  const refuse: ErrorRequestHandler = (error: { status?: number; code?: string; headers?: Record<string, string> }, _req, res, _next) => {
    res
      .status(error.status ?? 500)
      .set(error.headers ?? {})
      .json(error.code ? { error: error.code } : {});
  };
  app.use(refuse);
  return app;
}
