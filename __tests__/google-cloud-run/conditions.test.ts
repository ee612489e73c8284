import { describe, expect, it } from '@jest/globals'
import type { Condition } from '../../src/gcp/run-types.js'
import { failedConditions, isReady } from '../../src/targets/google-cloud-run/conditions.js'

const PORT_MESSAGE =
  'The user-provided container failed to start and listen on the port defined provided by the PORT=8080 environment variable ' +
  'within the allocated timeout. This can happen when the container port is misconfigured or if the timeout is too short. ' +
  'Logs for this revision might contain more information.'
const REVISION_NOT_READY = `Revision 'hello-abc1234-5o6aqt1-1' is not ready and cannot serve traffic. ${PORT_MESSAGE}`

describe('failedConditions', () => {
  it('gives a failed service’s message once, with its type and reason, leaving out what it quotes', () => {
    const terminal: Condition = { type: 'Ready', state: 'CONDITION_FAILED', reason: 'CONTAINER_FAILED', message: REVISION_NOT_READY }
    const service = {
      terminalCondition: terminal,
      conditions: [
        terminal,
        { type: 'ConfigurationsReady', state: 'CONDITION_FAILED' as const, message: REVISION_NOT_READY },
        {
          type: 'ContainerHealthy',
          state: 'CONDITION_FAILED' as const,
          revisionReason: 'HEALTH_CHECK_CONTAINER_ERROR',
          message: PORT_MESSAGE
        },
        { type: 'RoutesReady', state: 'CONDITION_SUCCEEDED' as const }
      ]
    }
    expect(failedConditions(service)).toEqual([`Ready (CONTAINER_FAILED): ${REVISION_NOT_READY}`])
  })

  it('keeps distinct failures in the order Cloud Run gives them, the terminal condition first', () => {
    const revision = {
      conditions: [
        {
          type: 'ResourcesAvailable',
          state: 'CONDITION_FAILED' as const,
          message: 'Quota exceeded for total allowable CPU per project per region.'
        },
        { type: 'ContainerHealthy', state: 'CONDITION_FAILED' as const, reason: 'ContainerMissing', message: 'Image not found.' },
        { type: 'Active', state: 'CONDITION_PENDING' as const, message: 'Waiting' }
      ],
      terminalCondition: { type: 'Ready', state: 'CONDITION_FAILED' as const, message: 'Revision failed.' }
    }
    expect(failedConditions(revision)).toEqual([
      'Ready: Revision failed.',
      'ResourcesAvailable: Quota exceeded for total allowable CPU per project per region.',
      'ContainerHealthy (ContainerMissing): Image not found.'
    ])
  })

  it('reports a failure without a message by its type and reason', () => {
    expect(failedConditions({ conditions: [{ type: 'Ready', state: 'CONDITION_FAILED', reason: 'REVISION_FAILED' }] })).toEqual([
      'Ready (REVISION_FAILED): (Cloud Run gave no message)'
    ])
  })

  it('has nothing to say about a healthy or pending resource', () => {
    expect(failedConditions({})).toEqual([])
    expect(
      failedConditions({
        terminalCondition: { type: 'Ready', state: 'CONDITION_SUCCEEDED' },
        conditions: [{ type: 'RoutesReady', state: 'CONDITION_RECONCILING', message: 'Routing traffic' }]
      })
    ).toEqual([])
  })
})

describe('isReady', () => {
  it('is true only when the Ready condition succeeded', () => {
    expect(
      isReady({
        conditions: [
          { type: 'ContainerHealthy', state: 'CONDITION_SUCCEEDED' },
          { type: 'Ready', state: 'CONDITION_SUCCEEDED' }
        ]
      })
    ).toBe(true)
    expect(isReady({ terminalCondition: { type: 'Ready', state: 'CONDITION_SUCCEEDED' } })).toBe(true)
    expect(isReady({ conditions: [{ type: 'Ready', state: 'CONDITION_FAILED' }] })).toBe(false)
    expect(isReady({ conditions: [{ type: 'Ready', state: 'CONDITION_RECONCILING' }] })).toBe(false)
    expect(isReady({ conditions: [{ type: 'ContainerHealthy', state: 'CONDITION_SUCCEEDED' }] })).toBe(false)
  })
})
