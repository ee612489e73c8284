/**
 * Which IAM permission an AWS call needs, and whether the one-time setup template grants it to the
 * deploy role: what an AccessDenied message tells the user to check. A test keeps
 * SETUP_TEMPLATE_GRANTS in step with the template.
 */

export const SETUP_TEMPLATE = 'templates/aws-setup/github-oidc-role.yaml'

const SERVER_STACKS = "the server's stacks (<ServerName>-stack and <ServerName>-*-stack)"
const SERVER_FUNCTIONS = "the server's functions (<ServerName> and <ServerName>-*)"
const SERVER_LOGS = "the server's log groups (/aws/lambda/<ServerName>*)"
const SERVER_SECRETS = "the server's secrets (<ServerName>/*)"

/** Every action the deploy role of the setup template is allowed, with the resources it is allowed on. */
export const SETUP_TEMPLATE_GRANTS: Readonly<Record<string, string>> = {
  'sts:AssumeRole': 'the CDK bootstrap roles (cdk-hnb659fds-*)',
  'sts:TagSession': 'the CDK bootstrap roles (cdk-hnb659fds-*)',
  'ssm:GetParameter': 'the CDK bootstrap version parameter /cdk-bootstrap/hnb659fds/version',
  'cloudformation:DescribeStacks': SERVER_STACKS,
  'cloudformation:DescribeStackEvents': SERVER_STACKS,
  'cloudformation:DescribeStackResources': SERVER_STACKS,
  'cloudformation:ListStackResources': SERVER_STACKS,
  'cloudformation:GetTemplate': SERVER_STACKS,
  'cloudformation:DeleteStack': SERVER_STACKS,
  'cloudformation:ListStacks': 'every stack of the account (names and statuses: ListStacks has no resource-level permissions)',
  'iam:PassRole': 'the CDK execution roles (cdk-hnb659fds-cfn-exec-role-*), passed to CloudFormation',
  'lambda:GetFunction': SERVER_FUNCTIONS,
  'lambda:GetFunctionConfiguration': SERVER_FUNCTIONS,
  'lambda:UpdateFunctionCode': SERVER_FUNCTIONS,
  'lambda:UpdateFunctionConfiguration': SERVER_FUNCTIONS,
  'lambda:PublishVersion': SERVER_FUNCTIONS,
  'lambda:ListVersionsByFunction': SERVER_FUNCTIONS,
  'lambda:GetAlias': SERVER_FUNCTIONS,
  'lambda:UpdateAlias': SERVER_FUNCTIONS,
  's3:GetObject': 'the CDK asset buckets (cdk-hnb659fds-assets-<account>-*)',
  'secretsmanager:DescribeSecret': SERVER_SECRETS,
  'secretsmanager:CreateSecret': SERVER_SECRETS,
  'secretsmanager:PutSecretValue': SERVER_SECRETS,
  'secretsmanager:TagResource': SERVER_SECRETS,
  'cognito-idp:DescribeUserPoolClient': 'the user pools of the account',
  'logs:DescribeLogStreams': SERVER_LOGS,
  'logs:FilterLogEvents': SERVER_LOGS,
  'logs:GetLogEvents': SERVER_LOGS
}

interface AwsService {
  /** The IAM prefix of its actions. */
  prefix: string
  /** Its name in messages. */
  title: string
}

/** The SDK clients the action uses, by their class name (what the SDK reports as `clientName`). */
const SERVICES: Readonly<Record<string, AwsService>> = {
  CloudFormationClient: { prefix: 'cloudformation', title: 'AWS CloudFormation' },
  CloudWatchLogsClient: { prefix: 'logs', title: 'Amazon CloudWatch Logs' },
  CognitoIdentityProviderClient: { prefix: 'cognito-idp', title: 'Amazon Cognito' },
  LambdaClient: { prefix: 'lambda', title: 'AWS Lambda' },
  SecretsManagerClient: { prefix: 'secretsmanager', title: 'AWS Secrets Manager' },
  SSMClient: { prefix: 'ssm', title: 'AWS Systems Manager (SSM)' },
  STSClient: { prefix: 'sts', title: 'AWS STS' }
}

export interface AwsOperation {
  /** `AWS Lambda` */
  service: string
  /** `GetAlias` */
  operation: string
  /** `lambda:GetAlias`; undefined for a client this table does not know. */
  permission?: string
}

/** The service, operation and IAM action of an SDK call, from the client's and the command's class names. */
export function awsOperation(clientName: string, commandName: string): AwsOperation {
  const operation = commandName.replace(/Command$/, '')
  const service = SERVICES[clientName]
  if (!service) return { service: clientName.replace(/Client$/, ''), operation }
  return { service: service.title, operation, permission: `${service.prefix}:${operation}` }
}

/** What the message of a refused call says about the setup template and the permission. */
export function permissionAdvice(permission: string): string {
  const scope = SETUP_TEMPLATE_GRANTS[permission]
  if (scope) {
    return (
      `The deploy role needs ${permission}. The setup template ${SETUP_TEMPLATE} grants it on ${scope}: if the role comes from ` +
      "that template, check that its ServerName parameter is the [server] name of deploy.toml (or '*') and update the stack to " +
      `the template of this release of the action; otherwise add ${permission} on those resources to the role's policy.`
    )
  }
  return (
    `The deploy role needs ${permission}, which the setup template ${SETUP_TEMPLATE} does not grant: ` +
    `add ${permission} to the role's policy.`
  )
}
