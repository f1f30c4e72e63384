import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PolicyError } from '../lambdas/core/policy/errors.js';
import { startLocalControlPlane } from '../lambdas/adapters/local/control-plane.js';
import { DataDirectoryError } from '../lambdas/adapters/local/data-dir.js';
import { emailNotice } from '../lambdas/adapters/local/outbox-mailer.js';

/**
 * `npm start`: the whole control plane on this machine. PORT, GATEHOUSE_DATA_DIR, GATEHOUSE_POLICY_FILE and
 * GATEHOUSE_SERVICE_DOCUMENTATION (the metadata's service_documentation URL) configure it.
 */
async function main(): Promise<void> {
  const dataDir = resolve(process.env['GATEHOUSE_DATA_DIR'] ?? '.gatehouse');
  const port = wholeNumberEnv('PORT', 3000, 0, 65_535);
  const rotationDays = wholeNumberEnv('GATEHOUSE_SIGNING_KEY_ROTATION_DAYS', 0, 0, 3650);
  // Crash tests: dies like kill -9 right after writing item k of a table transaction, to prove the next start undoes it.
  const crashAfterItem = Number(process.env['GATEHOUSE_CRASH_AFTER_TX_ITEM'] ?? 0);
  const plane = await startLocalControlPlane({
    port,
    dataDir,
    ...(process.env['GATEHOUSE_POLICY_FILE'] ? { policyFile: resolve(process.env['GATEHOUSE_POLICY_FILE']) } : {}),
    ...(rotationDays > 0 ? { signingKeyRotationEveryMs: rotationDays * 86_400_000 } : {}),
    ...(process.env['GATEHOUSE_SERVICE_DOCUMENTATION'] ? { serviceDocumentation: process.env['GATEHOUSE_SERVICE_DOCUMENTATION'] } : {}),
    // As in AWS: client secrets rotate on the policy's period (checked hourly) and the lifecycle sweep runs on a schedule.
    ...(process.env['GATEHOUSE_CLIENT_SECRET_ROTATION'] === 'off' ? {} : { clientSecretRotationCheckMs: 3_600_000 }),
    ...(crashAfterItem > 0 ? { afterTransactionItem: (k: number) => void (k === crashAfterItem && process.kill(process.pid, 'SIGKILL')) } : {}),
    sweepEveryMs: Math.max(wholeNumberEnv('GATEHOUSE_SWEEP_SECONDS', 300, -Infinity, 86_400), 5) * 1000,
    onEmail: (file, email) => process.stdout.write(emailNotice(file, email)),
  });
  // The metrics Lambda publishes to CloudWatch (EMF), counted in memory here: written to a file while it runs, printed at exit.
  const metricsFile = join(dataDir, 'metrics.json');
  let written = '';
  const writeMetrics = (): void => {
    const text = `${JSON.stringify(plane.metrics.snapshot(), null, 2)}\n`;
    if (text === written) return;
    try {
      writeFileSync(metricsFile, text);
      written = text;
    } catch (error) {
      // A full or read-only disk must not stop the control plane; the next tick tries again.
      process.stderr.write(`could not write ${metricsFile}: ${(error as Error).message}\n`);
    }
  };
  writeMetrics();
  setInterval(writeMetrics, 10_000).unref();
  // The signal handlers go in before the banner is printed: whoever reads the banner may signal at once.
  let stoppingSince: number | undefined;
  const stop = () => {
    if (stoppingSince !== undefined) {
      // Ctrl-C reaches npm and tsx as well as this process, which then gets one key press two or three times at once.
      if (Date.now() - stoppingSince < 1000) return;
      process.stderr.write('\nStopped at once: requests and workflow steps still under way were cut off.\n');
      process.exit(130);
    }
    stoppingSince = Date.now();
    process.stdout.write('\nStopping: finishing the requests and workflow steps under way (up to 10 s; signal again to stop at once)...\n');
    void plane
      .close()
      .then(() => {
        writeMetrics();
        const lines = plane.metrics.summary();
        process.stdout.write(`\nMetrics since start${lines.length === 0 ? ': none recorded' : `:\n${lines.map((l) => `  ${l}`).join('\n')}`}\n`);
        process.exit(0);
      })
      .catch((error: unknown) => {
        process.stderr.write(`\nStopping failed: ${(error as Error).message}\n`);
        process.exit(1);
      });
  };
  // A failure inside one local workflow execution must not take the whole control plane down.
  process.on('unhandledRejection', (reason) => process.stderr.write(`unhandled rejection: ${(reason as Error)?.message ?? String(reason)}\n`));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const u = plane.url;
  process.stdout.write(`
Gatehouse is running locally at ${u}
  policy        ${plane.services.policy.version}
  data          ${dataDir}  (dynalite table "${plane.tableName}", signing keys, outbox)
  outbox        ${plane.outboxDir}
  metrics       ${metricsFile}  (what Lambda publishes to CloudWatch, updated every 10 s; a summary is printed at exit)
  metadata      ${u}/.well-known/oauth-authorization-server
  jwks          ${u}/.well-known/jwks.json
  openapi       ${u}/openapi.json
  admin token   ${plane.adminToken}  (Authorization: Bearer … on /admin routes; also in ${dataDir}/admin-token)
  operator CLI  npm run gatehouse -- consumers   (show, evidence, suspend, terminate, reinstate, rotate-secret, exceptions, request-exception, resend-review-links, recertification, evaluate)

Try it (low risk, approved by policy):
  curl -s -X POST ${u}/register -H 'content-type: application/json' -d '{
    "client_name": "FX rates widget", "tier": "public", "scope": "reference-data:read",
    "purpose": "Show daily FX rates in our budgeting app", "data_classes": ["public"],
    "contacts": ["dev@fintech.example"], "expires_at": "${new Date(Date.now() + 180 * 86_400_000).toISOString().slice(0, 10)}T00:00:00Z"}'

  curl -s -u "<client_id>:<client_secret>" -d grant_type=client_credentials ${u}/oauth2/token

Partner and internal tiers need a software statement: npm run software-statement -- --tier partner --software-id my-app
Requests that need review email the reviewers (${plane.services.config.reviewers.default.join(', ')}): the
emails land in the outbox and their links are printed here; open one in a browser to approve or deny.
Stop with Ctrl-C.
`);
}

/** A setting that must be a whole number: `PORT=abc` stops the start with its name, never a NaN timer or a socket error. */
class SettingError extends Error {}

function wholeNumberEnv(name: string, fallback: number, min: number, max: number): number {
  const text = process.env[name]?.trim();
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = min === -Infinity ? `at most ${max}` : `from ${min} to ${max}`;
    throw new SettingError(`${name}=${JSON.stringify(process.env[name])} is not a whole number ${range}; unset it to use ${fallback}.`);
  }
  return value;
}

main().catch((error: unknown) => {
  if (error instanceof PolicyError || error instanceof DataDirectoryError || error instanceof SettingError) process.stderr.write(`\n${error.message}\n\n`);
  else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') process.stderr.write(`\nPort in use: set PORT to another port.\n\n`);
  else process.stderr.write(`\n${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
