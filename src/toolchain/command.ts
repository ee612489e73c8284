/** Architecture names as release assets spell them. */
export type HostArch = 'x86_64' | 'aarch64'

/** The machine the action runs on (not the Lambda target). */
export interface HostPlatform {
  os: string
  arch: HostArch
}

export function currentHost(): HostPlatform {
  return { os: process.platform, arch: process.arch === 'arm64' ? 'aarch64' : 'x86_64' }
}
