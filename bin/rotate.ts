import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { adminCall } from './admin-client.js';
import { consoleLog } from '../lambdas/adapters/local/console-log.js';
import { FileVault } from '../lambdas/adapters/local/file-vault.js';
import { loadPolicyFile } from '../lambdas/core/policy/load.js';
import { rotateSigningKeyFully } from '../lambdas/core/rotation/signing-key-rotation.js';
import { previousOverlapMs } from '../lambdas/core/tokens/signing-keys.js';

/**
 * `npm run rotate -- signing-key [--publish-delay SECONDS]`: rotates local mode's signing key with the same four steps
 * Secrets Manager runs. A running `npm start` picks the new key up within its key cache age (5 minutes); the new key is
 * published at once and signs after the publish delay (default 900 s; 0 for a quick demo).
 */
async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { 'publish-delay': { type: 'string', default: '900' }, reason: { type: 'string' } },
  });
  if (positionals[0] === 'client' && positionals[1]) {
    // The running control plane owns the registry: the rotation goes through its admin API, audited like any other.
    await adminCall('POST', `/admin/consumers/${encodeURIComponent(positionals[1])}/rotate-secret`, { reason: values.reason ?? 'rotated with npm run rotate' });
    process.stdout.write(
      `rotated the client secret of ${positionals[1]}: fetch it with GET /register/${positionals[1]} and the registration access token; the previous one works through the grace window\n`,
    );
    return;
  }
  if (positionals[0] !== 'signing-key') {
    process.stderr.write('usage: npm run rotate -- signing-key [--publish-delay SECONDS]\n       npm run rotate -- client <client_id> [--reason TEXT]\n');
    process.exit(2);
  }
  const dataDir = resolve(process.env['GATEHOUSE_DATA_DIR'] ?? '.gatehouse');
  const vault = new FileVault(resolve(dataDir, 'signing-keys.json'));
  const before = await vault.getSigningKeys();
  const token = randomUUID();
  const policy = loadPolicyFile(resolve(process.env['GATEHOUSE_POLICY_FILE'] ?? 'policy/policy.json'));
  await rotateSigningKeyFully(token, {
    secret: vault.secret,
    publicKeys: vault.publicKeys,
    now: new Date(),
    publishDelayMs: Number(values['publish-delay']) * 1000,
    previousOverlapMs: previousOverlapMs(policy),
    log: consoleLog({ silent: true }),
  });
  const after = await vault.getSigningKeys();
  process.stdout.write(
    `rotated: ${before.current.kid} -> ${after.current.kid} (signs from ${after.current.activatesAt ?? 'now'}); the previous key stays published while its tokens live\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});
