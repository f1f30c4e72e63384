/**
 * The Gatehouse CDK app (`npx cdk synth`). Configuration comes from cdk.json context or `-c key=value`:
 * stage (the stack is `Gatehouse-<stage>`, `Gatehouse` without one), manageApiGatewayAccount, policyFile, tokenAudience, softwareStatementIssuer, softwareStatementJwks, issuer, serviceDocumentation, consumerCacheMs,
 * apiThrottleRateLimit, apiThrottleBurstLimit, apiRouteThrottling, apiMaxBodyKiB, apiRequestsPerIpPer5Minutes,
 * apiRouteRequestsPerIpPer5Minutes,
 * reservedConcurrency, tokenReservedConcurrency, logRetentionDays, registryBackup, alarmEmails, reviewers, mailFrom, sesIdentity,
 * createSesIdentity, signingKeyRotationDays, signingKeyPublishDelaySeconds, sweepIntervalMinutes (see lib/app-config.ts),
 * skipBundling and demo.
 *
 * softwareStatementJwks defaults to config/software-statement.example.jwks.json, an example public key whose private half
 * was discarded, and reviewers and mailFrom to placeholder @bank.example addresses; with those, or without alarmEmails,
 * synth fails unless `-c demo=true` says the deployment is a demonstration (lib/placeholders.ts).
 */
import { App, Validations } from 'aws-cdk-lib';
import { PolicyError } from '../lambdas/core/policy/errors.js';
import { AppConfigError, loadAppConfig, loadStackName, type GatehouseAppConfig } from '../lib/app-config.js';
import { compliancePacks } from '../lib/compliance-packs.js';
import { GatehouseStack } from '../lib/gatehouse-stack.js';
import { placeholderFindings, placeholderMessage } from '../lib/placeholders.js';

const app = new App();

// `cdk synth` always asks for bundling and rejects `-c aws:cdk:bundling-stacks=...`; `-c skipBundling=true` checks the
// templates (and cdk-nag) without esbuild. The resulting assembly is not deployable.
if (String(app.node.tryGetContext('skipBundling')) === 'true') {
  app.node.setContext('aws:cdk:bundling-stacks', []);
  process.stderr.write('gatehouse: skipBundling=true, Lambda assets are placeholders; this assembly is not deployable\n');
}

let config: GatehouseAppConfig;
let stackName: string;
try {
  stackName = loadStackName((key) => app.node.tryGetContext(key));
  config = loadAppConfig((key) => app.node.tryGetContext(key));
} catch (error) {
  if (error instanceof PolicyError || error instanceof AppConfigError) {
    process.stderr.write(`\ngatehouse: cannot synthesize (${error.name}${error instanceof PolicyError ? ` ${error.code}` : ''})\n${error.message}\n\n`);
    process.exit(1);
  }
  throw error;
}

// Placeholders deploy silently and then reach nobody (reviewers, sender, example JWKS, alarm subscribers): refused unless
// the deployment says it is a demonstration.
const placeholders = placeholderFindings(config);
if (placeholders.length > 0) {
  if (String(app.node.tryGetContext('demo')) === 'true') {
    process.stderr.write(`gatehouse: demo=true, deploying with placeholders:\n${placeholders.map((f) => `  - ${f}`).join('\n')}\n`);
  } else {
    process.stderr.write(`\ngatehouse: cannot synthesize (placeholders)\n${placeholderMessage(stackName, placeholders)}\n\n`);
    process.exit(1);
  }
}

new GatehouseStack(app, stackName, {
  description: `Gatehouse: governed onboarding and credentials for API consumers (policy ${config.policy.version})`,
  ...config,
});

// cdk-nag v3 packs (AWS Solutions, NIST 800-53 R5, PCI DSS 3.2.1) are policy-validation plugins: any unacknowledged
// finding (error or warning) fails synthesis. Every acknowledgment names its rule on the construct it covers, with the
// reason (test/lib/gatehouse-stack.test.ts).
Validations.of(app).addPlugins(...compliancePacks(app));
