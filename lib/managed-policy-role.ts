import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

export interface ManagedPolicyRoleProps extends iam.RoleProps {
  /**
   * Description of the customer-managed policy that holds the role's permissions.
   * @default - "Permissions of " followed by the role's description
   */
  readonly policyDescription?: string;
}

/**
 * An IAM role whose grants go to one customer-managed policy attached to it (`<role>/Policy`), instead of CDK's inline
 * default policy. NIST 800-53 AC-6 and PCI DSS 7.2.1 (cdk-nag IAMNoInlinePolicy) want permissions in managed policies:
 * they are versioned, can be listed and reviewed on their own (IAM Access Analyzer, `list-policies`), and survive an
 * accidental `put-role-policy`. The policy is created on the first grant and is a child of the role, so anything that
 * depends on the role (a function waits for its role) also waits for its permissions, as with the default policy.
 */
export class ManagedPolicyRole extends iam.Role {
  /** The customer-managed policy holding the role's permissions, once anything was granted. */
  public permissionsPolicy?: iam.ManagedPolicy;

  private readonly policyDescription: string | undefined;

  constructor(scope: Construct, id: string, props: ManagedPolicyRoleProps) {
    const { policyDescription, ...roleProps } = props;
    super(scope, id, roleProps);
    this.policyDescription = policyDescription ?? (props.description ? `Permissions of ${props.description}` : undefined);
  }

  public override addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    this.permissionsPolicy ??= new iam.ManagedPolicy(this, 'Policy', { roles: [this], description: this.policyDescription });
    this.permissionsPolicy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.permissionsPolicy };
  }
}
