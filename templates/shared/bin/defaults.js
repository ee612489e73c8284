// Loaded before bin/app.ts (cdk.json's app command: node --import ./bin/defaults.js). Rendered by
// pmcp/deploy-action; do not edit.
//
// aws-cdk-lib's built-in CloudFormation validation costs about 8 s of CPU on every synth and deploy,
// most of a synth's time. Its findings are warnings only (the CDK CLI never fails a synth on them),
// the synthesized template is byte-identical without it, and this stack is checked with cfn-lint in
// the action's own tests. CDK_VALIDATION=true in the workflow's environment turns it back on.
process.env.CDK_VALIDATION ??= 'false'
