/** moto_server for the bench scripts: the tests' helper, plus this process's AWS environment. */
import type { MotoServer } from '../__tests__/helpers/moto.js'

export { startMoto } from '../__tests__/helpers/moto.js'

/** Points the AWS SDK and CLIs of this process (and its children) at moto with dummy credentials. */
export function useMotoCredentials(moto: MotoServer, region = 'us-east-1'): void {
  Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: region })
  delete process.env.AWS_SESSION_TOKEN
}
