import { AwsSolutionsChecks, NIST80053R5Checks, PCIDSS321Checks, type NagPack } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * The cdk-nag packs Gatehouse is held to: AWS Solutions, NIST 800-53 rev. 5 and PCI DSS 3.2.1. bin/gatehouse.ts registers
 * them as validation plugins (any unacknowledged finding fails `cdk synth`) and the tests run the same list, so the two
 * cannot drift apart. Kept out of the constructs' imports: cdk-nag is a build-time tool, not a dependency of the library.
 */
export function compliancePacks(scope: IConstruct): NagPack[] {
  return [new AwsSolutionsChecks(scope, { verbose: true }), new NIST80053R5Checks(scope, { verbose: true }), new PCIDSS321Checks(scope, { verbose: true })];
}
