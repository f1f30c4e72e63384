import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { JSONWebKeySet } from 'jose';
import { EXAMPLE_SOFTWARE_STATEMENT_JWKS, type GatehouseAppConfig } from './app-config.js';
import { PROJECT_ROOT } from './gatehouse-function.js';
import { domainOf } from './mail-sender.js';

/** Domains reserved for documentation and tests (RFC 2606, RFC 6761): mail to them reaches nobody. */
const RESERVED = /(^|\.)(example|example\.com|example\.net|example\.org|test|invalid|localhost)$/i;

const reserved = (address: string) => RESERVED.test(domainOf(address));

/** The example software-statement key(s): public keys whose private half was discarded, so they verify nothing real. */
function exampleKeys(): Set<string> {
  const jwks = JSON.parse(readFileSync(resolve(PROJECT_ROOT, EXAMPLE_SOFTWARE_STATEMENT_JWKS), 'utf8')) as JSONWebKeySet;
  return new Set(jwks.keys.map((k) => JSON.stringify([k.kty, k.crv, k.x, k.y, k.n])));
}

/**
 * What in a configuration is still a placeholder that deploys but works for nobody: reviewers or the sender at a reserved
 * example domain, the example software-statement key, no alarm subscriber (or one at an example domain), an audience at an
 * example domain. Each entry says what to set.
 */
export function placeholderFindings(
  config: Pick<GatehouseAppConfig, 'reviewers' | 'mailFrom' | 'softwareStatementJwks' | 'alarmEmails' | 'tokenAudience'>,
): string[] {
  const findings: string[] = [];
  const reviewers = [...new Set(Object.values(config.reviewers).flatMap((group) => group ?? []))].filter(reserved);
  if (reviewers.length > 0) {
    findings.push(
      `reviewers: ${reviewers.join(', ')} ${reviewers.length === 1 ? 'is a placeholder' : 'are placeholders'} at an example domain; set -c reviewers=<file or JSON> to real reviewer addresses`,
    );
  }
  if (reserved(config.mailFrom)) findings.push(`mailFrom: ${config.mailFrom} is at an example domain; set -c mailFrom=<address of your verified SES identity>`);
  const examples = exampleKeys();
  if (config.softwareStatementJwks.keys.some((k) => examples.has(JSON.stringify([k.kty, k.crv, k.x, k.y, k.n])))) {
    findings.push(
      `softwareStatementJwks: holds the example key from ${EXAMPLE_SOFTWARE_STATEMENT_JWKS}, whose private half nobody has; set -c softwareStatementJwks=<the commercial side's public JWKS file>`,
    );
  }
  const alarmEmails = config.alarmEmails ?? [];
  if (alarmEmails.length === 0) findings.push('alarmEmails: none, so every alarm notifies nobody; set -c alarmEmails=<on-call addresses, comma-separated>');
  else if (alarmEmails.some(reserved))
    findings.push(`alarmEmails: ${alarmEmails.filter(reserved).join(', ')} at an example domain; set real on-call addresses`);
  if (RESERVED.test(new URL(config.tokenAudience).hostname)) {
    findings.push(`tokenAudience: ${config.tokenAudience} is at an example domain; set -c tokenAudience=<the URL of the bank APIs the tokens are for>`);
  }
  return findings;
}

/** The message synth fails with when placeholders remain outside demo mode. */
export function placeholderMessage(stackName: string, findings: readonly string[]): string {
  return [
    `${stackName} still has placeholder settings that deploy but reach nobody:`,
    ...findings.map((f) => `  - ${f}`),
    'Set them (README, Deploy step 4), or synthesize a demonstration deployment on purpose with -c demo=true.',
  ].join('\n');
}
