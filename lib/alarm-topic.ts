import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /**
   * Email addresses subscribed to the topic; each receives a confirmation request first.
   * @default - none: subscribe the on-call tooling to the topic outside this stack
   */
  readonly emails?: readonly string[];
}

/**
 * The SNS topic every Gatehouse alarm notifies (in alarm and back to OK): encrypted with its own customer-managed key,
 * TLS-only, and publishable by CloudWatch alarms of this account only. Notifications carry alarm names and metric
 * values, never request data, but they say what is failing, so they are not left under an AWS-managed key.
 */
export class AlarmTopic extends Construct {
  /** The topic. */
  public readonly topic: sns.Topic;
  /** The key the topic is encrypted with. */
  public readonly encryptionKey: kms.Key;

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.encryptionKey = new kms.Key(this, 'Key', {
      description: 'Gatehouse: encrypts alarm notifications (the alarm topic)',
      enableKeyRotation: true,
      // Messages live in the topic only until delivered, so nothing outlives the stack under this key.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // CloudWatch publishes to an encrypted topic with the key as the cloudwatch service principal (AWS documents exactly
    // these two actions for alarm actions on SSE topics); the topic policy below limits which alarms may publish.
    this.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Gatehouse alarms',
      masterKey: this.encryptionKey,
      enforceSSL: true,
    });
    // The TLS-only topic policy replaces SNS's default one, so CloudWatch needs an explicit allow: this account's alarms only.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisAccountsAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
          },
        },
      }),
    );
    for (const email of props.emails ?? []) this.topic.addSubscription(new subscriptions.EmailSubscription(email));
  }
}
