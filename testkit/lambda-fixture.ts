/**
 * Lambda functions on moto shaped like the action's stack: a `provided.al2023` function from a zip
 * with a `bootstrap` file, one published version per "deploy" (description `<sha> run <runId>`), and
 * alias `live`. Used by the lifecycle tests and bench/rollback.ts.
 */
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation'
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  LambdaClient,
  PublishVersionCommand,
  UpdateFunctionCodeCommand
} from '@aws-sdk/client-lambda'
import { crc32 } from 'node:zlib'
import { awsClient, type AwsContext } from '../src/aws/clients.js'

/** A zip archive (stored, not deflated) holding one executable file. */
export function zipOf(fileName: string, content: Buffer): Buffer {
  const name = Buffer.from(fileName)
  const crc = crc32(content)
  const executable = (0o100755 << 16) >>> 0
  const local = Buffer.alloc(30)
  local.writeUInt32LE(0x04034b50, 0)
  local.writeUInt16LE(20, 4) // version needed
  local.writeUInt32LE(crc, 14)
  local.writeUInt32LE(content.length, 18)
  local.writeUInt32LE(content.length, 22)
  local.writeUInt16LE(name.length, 26)
  const central = Buffer.alloc(46)
  central.writeUInt32LE(0x02014b50, 0)
  central.writeUInt16LE((3 << 8) | 20, 4) // made by Unix
  central.writeUInt16LE(20, 6)
  central.writeUInt32LE(crc, 16)
  central.writeUInt32LE(content.length, 20)
  central.writeUInt32LE(content.length, 24)
  central.writeUInt16LE(name.length, 28)
  central.writeUInt32LE(executable, 38)
  const centralOffset = local.length + name.length + content.length
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(1, 8)
  end.writeUInt16LE(1, 10)
  end.writeUInt32LE(central.length + name.length, 12)
  end.writeUInt32LE(centralOffset, 16)
  return Buffer.concat([local, name, content, central, name, end])
}

/** A deployment package: `bootstrap`, a shell script standing in for the server binary. */
export function bootstrapZip(marker: string, padding: Buffer = Buffer.alloc(0)): Buffer {
  return zipOf('bootstrap', Buffer.concat([Buffer.from(`#!/bin/sh\n# ${marker}\nexec true\n# `), padding]))
}

/** The execution role, created the way a stack would (moto checks that a function's role exists). */
export async function createExecutionRole(aws: AwsContext, stackName = 'pmcp-lambda-role'): Promise<string> {
  const cloudFormation = awsClient(CloudFormationClient, aws)
  const template = {
    Resources: {
      Role: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]
          }
        }
      }
    },
    Outputs: { RoleArn: { Value: { 'Fn::GetAtt': ['Role', 'Arn'] } } }
  }
  await cloudFormation.send(
    new CreateStackCommand({ StackName: stackName, TemplateBody: JSON.stringify(template), Capabilities: ['CAPABILITY_IAM'] })
  )
  const stacks = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }))
  const arn = stacks.Stacks?.[0]?.Outputs?.find(o => o.OutputKey === 'RoleArn')?.OutputValue
  if (!arn) throw new Error(`stack ${stackName} has no RoleArn output`)
  return arn
}

export const sha = (seed: string): string => seed.repeat(40).slice(0, 40)

export interface Deploy {
  commit: string
  runId: string
  zip: Buffer
}

/** A function with one published version per deploy, in order, and alias `live` on the last one. */
export async function createDeployedFunction(
  aws: AwsContext,
  options: { functionName: string; roleArn: string; deploys: Deploy[]; alias?: boolean }
): Promise<void> {
  const lambda = awsClient(LambdaClient, aws)
  const [first, ...rest] = options.deploys
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: options.functionName,
      Runtime: 'provided.al2023',
      Handler: 'bootstrap',
      Architectures: ['arm64'],
      Role: options.roleArn,
      Code: { ZipFile: first.zip }
    })
  )
  let version = (
    await lambda.send(new PublishVersionCommand({ FunctionName: options.functionName, Description: `${first.commit} run ${first.runId}` }))
  ).Version
  for (const deploy of rest) version = await publishDeploy(aws, options.functionName, deploy)
  if (options.alias !== false) {
    await lambda.send(new CreateAliasCommand({ FunctionName: options.functionName, Name: 'live', FunctionVersion: version }))
  }
}

/** What a deploy does to the function: new code, a new version. Returns the version number. */
export async function publishDeploy(aws: AwsContext, functionName: string, deploy: Deploy): Promise<string> {
  const lambda = awsClient(LambdaClient, aws)
  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: functionName, ZipFile: deploy.zip }))
  const published = await lambda.send(
    new PublishVersionCommand({ FunctionName: functionName, Description: `${deploy.commit} run ${deploy.runId}` })
  )
  if (!published.Version) throw new Error('PublishVersion returned no version')
  return published.Version
}
