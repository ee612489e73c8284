/**
 * The local pmcp.run holds clients to cargo pmcp 0.28's contract the way AppSync would: documents
 * that do not fit its schema, variables of the wrong type or missing, and uploads whose content type
 * does not match their bytes are refused. Asked directly over HTTP, and with the client's own documents.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { zipSync } from 'fflate'
import { createDeploymentVariables, QUERIES } from '../../src/targets/pmcp-run/graphql.js'
import { parseOperation, PmcpRunService, validateOperation } from '../../testkit/pmcp-run-service.js'

const TOKEN = 'static-token'
let service: PmcpRunService

beforeAll(async () => {
  service = await PmcpRunService.start({ staticTokens: [TOKEN], existing: [{ id: 'dep-1', projectName: 'hello-mcp' }] })
})

afterAll(() => service.stop())

interface Answer {
  status: number
  body: { data?: Record<string, unknown>; errors?: Array<{ errorType?: string; message: string }> }
}

async function post(query: string, variables: Record<string, unknown>, authorization = TOKEN): Promise<Answer> {
  const response = await fetch(`${service.url}/graphql`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables })
  })
  return { status: response.status, body: (await response.json()) as Answer['body'] }
}

function messages(answer: Answer): string[] {
  return (answer.body.errors ?? []).map(error => error.message)
}

describe('GraphQL documents and variables', () => {
  it("serves the client's own getDeployment document", async () => {
    const answer = await post(QUERIES.getDeployment, { id: 'dep-1' })
    expect(answer.status).toBe(200)
    expect(answer.body.data?.getDeployment).toMatchObject({ id: 'dep-1', projectName: 'hello-mcp' })
  })

  it('rejects a selected field its type does not have, as AppSync (ValidationError, FieldUndefined)', async () => {
    const answer = await post('query GetDeployment($id: ID!) { getDeployment(id: $id) { id status region } }', { id: 'dep-1' })
    expect(answer.status).toBe(400)
    expect(answer.body.errors).toEqual([
      {
        errorType: 'ValidationError',
        message: "Validation error of type FieldUndefined: Field 'region' in type 'Deployment' is undefined @ 'getDeployment/region'"
      }
    ])
  })

  it('rejects a root field of the wrong operation type, and one that does not exist', async () => {
    const asQuery = await post('query Q($id: ID!) { destroyDeployment(id: $id) { id status } }', { id: 'dep-1' })
    expect(messages(asQuery)).toEqual([
      "Validation error of type FieldUndefined: Field 'destroyDeployment' in type 'Query' is undefined @ 'destroyDeployment'"
    ])
    const old = await post('mutation DeleteDeployment($projectName: String!) { deleteDeployment(projectName: $projectName) { success } }', {
      projectName: 'hello-mcp'
    })
    expect(messages(old)[0]).toMatch(/FieldUndefined: Field 'deleteDeployment' in type 'Mutation' is undefined/)
  })

  it('rejects an unknown argument and a missing required one', async () => {
    const answer = await post('query G($id: ID!, $region: String) { getDeployment(id: $id, region: $region) { id } }', {
      id: 'dep-1',
      region: null
    })
    expect(messages(answer)).toContain("Validation error of type UnknownArgument: Unknown field argument region @ 'getDeployment'")
    const missing = await post('mutation U($projectName: String!) { getUploadUrls(projectName: $projectName) { templateS3Key } }', {
      projectName: 'x'
    })
    expect(messages(missing)).toEqual([
      "Validation error of type MissingFieldArgument: Missing field argument templateSize @ 'getUploadUrls'",
      "Validation error of type MissingFieldArgument: Missing field argument bootstrapSize @ 'getUploadUrls'"
    ])
  })

  it("rejects a variable whose declared type is not the argument's (String for ID!, nullable for non-null, Int for String)", async () => {
    const asString = await post('query G($id: String!) { getDeployment(id: $id) { id } }', { id: 'dep-1' })
    expect(messages(asString)).toEqual([
      "Validation error of type VariableTypeMismatch: Variable type 'String!' doesn't match expected type 'ID!' @ 'getDeployment'"
    ])
    const nullable = await post('query G($id: ID) { getDeployment(id: $id) { id } }', { id: 'dep-1' })
    expect(messages(nullable)[0]).toMatch(/Variable type 'ID' doesn't match expected type 'ID!'/)
    const list = await post('query F($serverId: [String]!) { fetchServerOAuthEndpoints(serverId: $serverId) { serverId } }', {
      serverId: ['x']
    })
    expect(messages(list)[0]).toMatch(/Variable type '\[String\]!' doesn't match expected type 'String!'/)
    // A non-null variable where null is allowed fits (GraphQL's rule).
    const stricter = await post(
      'mutation C($serverId: String!, $enabled: Boolean!, $scopes: [String!]!) ' +
        '{ configureServerOAuth(serverId: $serverId, enabled: $enabled, scopes: $scopes) { serverId } }',
      { serverId: 'dep-1', enabled: false, scopes: ['openid'] }
    )
    expect(stricter.status).toBe(200)
  })

  it('rejects a required variable that is missing or null', async () => {
    expect(messages(await post(QUERIES.getDeployment, {}))).toEqual(["Variable 'id' has coerced Null value for NonNull type 'ID!'"])
    expect(messages(await post(QUERIES.getDeployment, { id: null }))).toEqual([
      "Variable 'id' has coerced Null value for NonNull type 'ID!'"
    ])
  })

  it('rejects a value of the wrong JSON type', async () => {
    const sizes = await post(QUERIES.getUploadUrls, { projectName: 'x', templateSize: '12', bootstrapSize: 1.5 })
    expect(messages(sizes)).toEqual([
      "Variable 'templateSize' has an invalid value: Expected type 'Int' but was 'string'.",
      "Variable 'bootstrapSize' has an invalid value: Expected type 'Int' but was 'number'."
    ])
    const oauth = await post(QUERIES.configureServerOAuth, {
      serverId: 'dep-1',
      enabled: 'true',
      scopes: ['openid', 7],
      dcrEnabled: null,
      publicClientPatterns: 'claude',
      sharedPoolName: null
    })
    expect(messages(oauth)).toEqual([
      "Variable 'enabled' has an invalid value: Expected type 'Boolean' but was 'string'.",
      "Variable 'scopes' has an invalid value: Expected type 'String' but was 'integer'.",
      "Variable 'publicClientPatterns' has an invalid value: Expected type '[String]' but was 'string'."
    ])
    expect(messages(await post(QUERIES.getDeployment, { id: 42 }))).toEqual([
      "Variable 'id' has an invalid value: Expected type 'ID' but was 'integer'."
    ])
  })

  it('rejects variables the document does not declare, and declared ones it does not use', async () => {
    const extra = await post(QUERIES.getDeployment, { id: 'dep-1', projectName: 'hello-mcp' })
    expect(extra.status).toBe(400)
    expect(messages(extra)[0]).toMatch(/^Variable 'projectName' is not declared by the operation/)
    const unused = await post('query G($id: ID!, $x: String) { getDeployment(id: $id) { id } }', { id: 'dep-1', x: null })
    expect(messages(unused)).toEqual(['Validation error of type UnusedVariable: Unused variable x'])
  })

  it('rejects a type AppSync does not have, and a leaf field with a selection or an object without one', async () => {
    const unknownType = await post('query G($id: DeploymentId!) { getDeployment(id: $id) { id } }', { id: 'dep-1' })
    expect(messages(unknownType)).toContain('Validation error of type UnknownType: Unknown type DeploymentId')
    const noItems = await post('query L { listDeployments { items } }', {})
    expect(messages(noItems)[0]).toMatch(/SubSelectionRequired: Sub selection required for type DeploymentSummary of field items/)
    const nested = await post('query L { listDeployments { items { id owner } } }', {})
    expect(messages(nested)).toEqual([
      "Validation error of type FieldUndefined: Field 'owner' in type 'DeploymentSummary' is undefined @ 'listDeployments/items/owner'"
    ])
  })

  it('takes the raw token only: `Bearer ` is refused', async () => {
    const answer = await post(QUERIES.getDeployment, { id: 'dep-1' }, `Bearer ${TOKEN}`)
    expect(answer.status).toBe(401)
    expect(answer.body.errors?.[0].errorType).toBe('UnauthorizedException')
  })

  it("accepts every document of the client with the variables it sends, and knows each root field's return fields", () => {
    const variables: Record<keyof typeof QUERIES, Record<string, unknown>> = {
      getUploadUrls: { projectName: 'p', templateSize: 1, bootstrapSize: 2 },
      createDeploymentFromS3: createDeploymentVariables({ templateS3Key: 't', bootstrapS3Key: 'b', projectName: 'p' }),
      getDeployment: { id: 'd' },
      listDeployments: {},
      destroyDeployment: { id: 'd' },
      getDeploymentOperationStatus: { id: 'd' },
      configureServerOAuth: {
        serverId: 's',
        enabled: true,
        scopes: null,
        dcrEnabled: true,
        publicClientPatterns: ['claude'],
        sharedPoolName: null
      },
      fetchServerOAuthEndpoints: { serverId: 's' }
    }
    for (const [operation, query] of Object.entries(QUERIES) as Array<[keyof typeof QUERIES, string]>) {
      const parsed = parseOperation(query)
      expect([operation, validateOperation(parsed, variables[operation])]).toEqual([operation, []])
      expect(parsed.fields.map(field => field.name)).toEqual([operation])
    }
    // createDeploymentFromS3 declares exactly the eleven variables of cargo pmcp 0.28, with their types.
    expect(
      parseOperation(QUERIES.createDeploymentFromS3).variables.map(v => `${v.name}: ${v.type.name}${v.type.nonNull ? '!' : ''}`)
    ).toEqual([
      'templateS3Key: String!',
      'bootstrapS3Key: String!',
      'projectName: String!',
      'runtime: String',
      'memorySize: Int',
      'timeout: Int',
      'serverVersion: String',
      'tier: String',
      'allowComposition: Boolean',
      'internalOnly: Boolean',
      'compositionDescription: String'
    ])
  })
})

describe('uploads', () => {
  async function presigned(): Promise<{ template: string; bootstrap: string }> {
    const answer = await post(QUERIES.getUploadUrls, { projectName: 'up', templateSize: 2, bootstrapSize: 22 })
    const urls = answer.body.data?.getUploadUrls as { templateUploadUrl: string; bootstrapUploadUrl: string }
    return { template: urls.templateUploadUrl, bootstrap: urls.bootstrapUploadUrl }
  }

  async function put(url: string, body: Uint8Array, contentType: string): Promise<{ status: number; text: string }> {
    const response = await fetch(url, { method: 'PUT', headers: { 'content-type': contentType }, body })
    return { status: response.status, text: await response.text() }
  }

  const zip = zipSync({ a: new Uint8Array([1]) }, { level: 0 })

  it('refuses a server package whose content type does not match its bytes, or is neither zip nor octet-stream', async () => {
    const { bootstrap } = await presigned()
    const raw = Buffer.from('\x7fELF-not-a-zip-at-all!')
    expect(raw.length).toBe(22)
    expect(await put(bootstrap, raw, 'application/zip')).toMatchObject({ status: 400, text: expect.stringContaining('not a zip') })
    expect(await put(bootstrap, raw, 'binary/octet-stream')).toMatchObject({
      status: 400,
      text: expect.stringContaining('must be application/zip or application/octet-stream')
    })
    expect(await put(bootstrap, raw, 'application/octet-stream')).toMatchObject({ status: 200 })
    expect(service.uploadedPackage()).toMatchObject({ contentType: 'application/octet-stream', entries: undefined })
  })

  it('refuses a zip sent as application/octet-stream, takes it as application/zip', async () => {
    const answer = await post(QUERIES.getUploadUrls, { projectName: 'zip', templateSize: 2, bootstrapSize: zip.length })
    const { bootstrapUploadUrl } = answer.body.data?.getUploadUrls as { bootstrapUploadUrl: string }
    expect(await put(bootstrapUploadUrl, zip, 'application/octet-stream')).toMatchObject({
      status: 400,
      text: expect.stringContaining('a zip uploaded as application/octet-stream')
    })
    expect(await put(bootstrapUploadUrl, zip, 'application/zip')).toMatchObject({ status: 200 })
    expect(service.uploadedPackage().entries?.map(e => e.name)).toEqual(['a'])
  })

  it('refuses a template that is not application/json', async () => {
    const { template } = await presigned()
    expect(await put(template, Buffer.from('{}'), 'text/plain')).toMatchObject({
      status: 400,
      text: expect.stringContaining('the template must be uploaded as application/json')
    })
  })
})
