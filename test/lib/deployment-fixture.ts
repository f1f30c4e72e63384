import { Stack } from 'aws-cdk-lib';
import { deploymentSuffix } from '../../lib/deployment-names.js';

/** The deployment suffix as a template spells it: the first group of the stack id's UUID. */
export const DEPLOYMENT_SUFFIX = new Stack().resolve(deploymentSuffix()) as unknown;
