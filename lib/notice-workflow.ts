import { fileURLToPath } from 'node:url';
import type { RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { MailAccess } from './handler-functions.js';
import { encryptedLogGroup } from './log-encryption-key.js';
import { stateMachineRole } from './review-workflow.js';

/** The consumer-notice state machine definition shared with local mode (resolved from this file, not the working directory). */
export const NOTICE_DEFINITION_PATH = fileURLToPath(new URL('../statemachines/consumer-notice.asl.json', import.meta.url));

export interface NoticeWorkflowProps {
  /** The sender the notices go out from (`${MailFrom}`); the state machine may send from that address only. */
  readonly mail: MailAccess;
  /** Key the execution log group is encrypted with. */
  readonly logEncryptionKey: kms.IKey;
  /**
   * How long execution logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the execution log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * Lifecycle notices to consumers' contacts (suspension, revocation, warnings, a rotated secret): a STANDARD state machine
 * from the shared ASL file that sends each notice through SES's SDK integration and retries what SES may accept later
 * for about 90 minutes. The functions that notify (`notice:send`) only start executions: they hold no SES permission
 * and carry no SES client, and a notice SES cannot take now is retried instead of lost. STANDARD rather than EXPRESS:
 * each send is attempted once per retry (EXPRESS is at-least-once), a failed execution can be redriven, and notices are
 * rare (a few state transitions each). Logs every event but never execution data, which holds contact addresses.
 */
export class NoticeWorkflow extends Construct {
  /** The state machine. */
  public readonly stateMachine: sfn.StateMachine;
  /** Where execution history events are logged. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: NoticeWorkflowProps) {
    super(scope, id);
    this.logGroup = encryptedLogGroup(this, 'Logs', {
      encryptionKey: props.logEncryptionKey,
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    const role = stateMachineRole(this, 'Role', 'Gatehouse consumer notice state machine');
    // The definition is opaque to CDK, so its one call is granted here: ses:SendEmail on the identity, from the sender only.
    props.mail.grantSend(role);
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      role,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromFile(NOTICE_DEFINITION_PATH),
      definitionSubstitutions: { MailFrom: props.mail.from },
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
      comment: 'Gatehouse consumer notices',
    });
  }
}
