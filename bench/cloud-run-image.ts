/**
 * The Cloud Run image without a Docker daemon, warm, against a full rebuild, on this machine.
 *   node --import tsx bench/cloud-run-image.ts        (BENCH_RUNS=n for another number of rounds)
 * set-up (untimed): two Debian docker-registry instances on loopback, one holding the test base
 *   (testkit/oci-base-image.ts: an OCI index, its linux/amd64 image two layers), the other the
 *   destination; testkit/fixtures/cloud-run-server (a std-only MCP server) copied to a temp dir.
 * full rebuild, what a Docker build from scratch does: `cargo build --release --offline --locked`
 *   with an empty target dir, then `buildAndPushImage` to a repository that holds nothing yet. The
 *   base is on the other registry, so nothing can be mounted: every layer is uploaded.
 * warm: one string constant of the server changed, `cargo build` again with the same target dir,
 *   `buildAndPushImage` to the same repository: only the binary layer, config and manifest go up.
 * Every round has its own target dir and its own destination repository. Uploads are counted from
 *   the destination registry's access log (completed blob uploads, manifest puts), bytes from the
 *   sizes of the blobs uploaded plus the manifest as the registry serves it.
 * Goals (issue 20: "a warm build then costs an incremental cargo build, not a full Docker rebuild"):
 *   the warm push uploads only the binary layer, the config and the manifest; the warm image build +
 *   push adds ≤ 10% to the incremental cargo build it follows.
 * Printed, not judged: the warm/full ratios of the image step (on loopback a blob upload costs the
 *   registry's round trips more than its bytes) and of the totals. The fixture has no dependencies
 *   (none can be fetched here), so its cold cargo build compiles one crate, as its warm build does,
 *   where a pmcp server's cold build compiles its whole dependency tree.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { runCommand } from '../src/process.js'
import {
  buildAndPushImage,
  imageDestination,
  type ImageDestination,
  type PushedImage
} from '../src/targets/google-cloud-run/image/index.js'
import { formatBytes } from '../src/targets/google-cloud-run/image/registry.js'
import { buildBaseLayout, pushBaseImage } from '../testkit/oci-base-image.js'
import { startOciRegistry, type OciRegistry, type RegistryAccess } from '../testkit/oci-registry.js'
import { REPO_ROOT } from '../testkit/workdir.js'
import { figureLine, list, median, pairedRatio, quietly, runCount } from './report.js'

/** The warm image build + push over the incremental cargo build it follows. */
const GOAL_IMAGE_OVER_CARGO = 0.1
const FIXTURE = path.join(REPO_ROOT, 'testkit', 'fixtures', 'cloud-run-server')
const BINARY = 'hello-run'
/** The line the warm round changes: the server name it reports in `initialize`. */
const SOURCE_LINE = 'const SERVER_NAME: &str = "hello-run";'
const GCP = { projectId: 'bench-project', region: 'us-central1', repository: 'pmcp' }

interface Push {
  ms: number
  image: PushedImage
  /** Blob uploads the destination registry completed (PUT …/blobs/uploads/… answered 201). */
  blobUploads: number
  manifestPuts: number
  /** The blobs uploaded plus the manifest. */
  bytes: number
}

interface Round {
  cargoCold: number
  full: Push
  cargoWarm: number
  warm: Push
}

/** `cargo build --release --offline --locked` of the server into targetDir; its time in ms. */
async function cargoBuild(project: string, targetDir: string): Promise<number> {
  const args = ['build', '--release', '--offline', '--locked', '--target-dir', targetDir]
  const started = performance.now()
  const result = await runCommand('cargo', args, { cwd: project, silent: true })
  const ms = performance.now() - started
  if (result.exitCode !== 0) throw new Error(`cargo ${args.join(' ')} failed (exit code ${result.exitCode}):\n${result.stderr}`)
  return ms
}

/** The manifest's size as the registry serves it (the manifest is the one upload PushedImage does not count). */
async function manifestBytes(registry: OciRegistry, image: PushedImage, destination: ImageDestination): Promise<number> {
  const response = await fetch(`${registry.url}/v2/${destination.repository}/manifests/${image.digest}`, {
    headers: { accept: image.mediaType }
  })
  if (!response.ok) throw new Error(`${registry.url} does not serve ${image.reference}: HTTP ${response.status}`)
  return (await response.arrayBuffer()).byteLength
}

async function timedPush(registry: OciRegistry, options: Parameters<typeof buildAndPushImage>[0]): Promise<Push> {
  const before = (await registry.accesses()).length
  const started = performance.now()
  const image = await quietly(() => buildAndPushImage(options))
  const ms = performance.now() - started
  const accesses: RegistryAccess[] = (await registry.accesses()).slice(before)
  const blobUploads = accesses.filter(access => access.method === 'PUT' && access.path.includes('/blobs/uploads/') && access.status === 201)
  const manifestPuts = accesses.filter(access => access.method === 'PUT' && access.path.includes('/manifests/') && access.status === 201)
  return {
    ms,
    image,
    blobUploads: blobUploads.length,
    manifestPuts: manifestPuts.length,
    bytes: image.bytesUploaded + (await manifestBytes(registry, image, options.destination))
  }
}

/** One full rebuild and one warm build, each in its own target dir and destination repository. */
async function runRound(round: number, work: string, base: string, destinationRegistry: OciRegistry): Promise<Round> {
  const dir = path.join(work, `round-${round}`)
  const project = path.join(dir, 'server')
  const targetDir = path.join(dir, 'target')
  fs.cpSync(FIXTURE, project, { recursive: true })
  const env = { PMCP_GCP_REGISTRY_HOST: destinationRegistry.host }
  const destination = imageDestination(GCP, `${BINARY}-${round}`, env)
  const binaryPath = path.join(targetDir, 'release', BINARY)
  const options = { binaryPath, destination, base, env }

  const cargoCold = await cargoBuild(project, targetDir)
  const full = await timedPush(destinationRegistry, options)
  if (full.image.layersReused > 0)
    throw new Error(`the full rebuild reused ${full.image.layersReused} layer(s): ${destination.name} was not empty`)

  const source = path.join(project, 'src', 'main.rs')
  const text = fs.readFileSync(source, 'utf8')
  if (!text.includes(SOURCE_LINE)) throw new Error(`${source} has no line ${SOURCE_LINE}: update the bench's SOURCE_LINE`)
  fs.writeFileSync(source, text.replace(SOURCE_LINE, `const SERVER_NAME: &str = "hello-run-warm-${round}";`))
  const cargoWarm = await cargoBuild(project, targetDir)
  const warm = await timedPush(destinationRegistry, options)
  if (warm.image.binaryLayer.digest === full.image.binaryLayer.digest)
    throw new Error('the warm build made the same binary: the edit did not reach it')

  fs.rmSync(dir, { recursive: true, force: true })
  return { cargoCold, full, cargoWarm, warm }
}

/** What a push sent: `3 layers + config + manifest, 3.2 MB`. */
function uploads(push: Push): string {
  return (
    `${push.image.layersUploaded} layer(s) + config + manifest, ${formatBytes(push.bytes)} ` +
    `(registry log: ${push.blobUploads} blob upload(s), ${push.manifestPuts} manifest put)`
  )
}

/** Only the binary layer, the config and the manifest went up, by the module's count and the registry's. */
function onlyBinaryConfigManifest(push: Push): boolean {
  const uploaded = push.image.blobs.filter(blob => blob.outcome === 'uploaded').map(blob => blob.label)
  return (
    uploaded.length === 2 &&
    uploaded.includes('binary layer') &&
    uploaded.includes('image config') &&
    push.blobUploads === 2 &&
    push.manifestPuts === 1
  )
}

async function main(): Promise<void> {
  const rounds = runCount(3)
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-bench-cloud-run-image-'))
  const registries: OciRegistry[] = []
  try {
    const baseRegistry = await startOciRegistry()
    registries.push(baseRegistry)
    const destinationRegistry = await startOciRegistry()
    registries.push(destinationRegistry)
    const base = await pushBaseImage(buildBaseLayout(path.join(work, 'base')), 'multi', baseRegistry.host, 'bench/base', 'oci')

    const results: Round[] = []
    for (let round = 0; round < rounds; round++) results.push(await runRound(round, work, base.reference, destinationRegistry))

    const times = (pick: (round: Round) => number): number[] => results.map(pick)
    const cargoCold = times(round => round.cargoCold)
    const cargoWarm = times(round => round.cargoWarm)
    const pushFull = times(round => round.full.ms)
    const pushWarm = times(round => round.warm.ms)
    const totalFull = times(round => round.cargoCold + round.full.ms)
    const totalWarm = times(round => round.cargoWarm + round.warm.ms)
    const imageOverCargo = pairedRatio(pushWarm, cargoWarm)
    const [last] = results.slice(-1)
    const baseLayers = last.full.image.blobs.filter(blob => blob.label.startsWith('base layer'))
    const warmUploadsMet = results.every(round => onlyBinaryConfigManifest(round.warm))
    const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`
    const lines = [
      `Cloud Run image (${path.relative(REPO_ROOT, FIXTURE)}, std only): full rebuild vs warm ` +
        `(medians of ${rounds} rounds; base ${base.reference} on another registry: linux/amd64, ${baseLayers.length} layers, ` +
        `${formatBytes(baseLayers.reduce((sum, blob) => sum + blob.size, 0))}; ` +
        `binary layer ${formatBytes(last.warm.image.binaryLayer.size)})`,
      '  full rebuild: cargo build --release with an empty target dir, every layer pushed to an empty repository (no mount).',
      '  warm: one string constant changed, cargo build with the same target dir, pushed to the same repository.',
      '  The fixture has no dependencies: its cold cargo build compiles one crate, as the warm one does.',
      figureLine('full rebuild: cargo build (cold)', `${s(median(cargoCold))} ${list(cargoCold)}`),
      figureLine('full rebuild: image build + push', `${s(median(pushFull))} ${list(pushFull)}`),
      figureLine('full rebuild: uploaded', uploads(last.full)),
      figureLine('warm: cargo build (incremental)', `${s(median(cargoWarm))} ${list(cargoWarm)}`),
      figureLine('warm: image build + push', `${s(median(pushWarm))} ${list(pushWarm)}`),
      figureLine('warm: uploaded', uploads(last.warm), {
        text: 'the binary layer + config + manifest only (issue 20)',
        met: warmUploadsMet
      }),
      figureLine('warm image build + push / warm cargo build', imageOverCargo.toFixed(2), {
        text: `≤ ${GOAL_IMAGE_OVER_CARGO.toFixed(2)} (ours)`,
        met: imageOverCargo <= GOAL_IMAGE_OVER_CARGO
      }),
      figureLine(
        'image build + push, warm / full',
        `${pairedRatio(pushWarm, pushFull).toFixed(2)} in time, ` + `${(last.warm.bytes / last.full.bytes).toFixed(3)} in bytes uploaded`
      ),
      figureLine(
        'total (cargo + image), full / warm',
        `${s(median(totalFull))} / ${s(median(totalWarm))}: warm is ${pairedRatio(totalWarm, totalFull).toFixed(2)} of full`
      )
    ]
    console.log(lines.join('\n'))
  } finally {
    await Promise.all(registries.map(registry => registry.stop()))
    fs.rmSync(work, { recursive: true, force: true })
  }
}

main().catch(error => {
  console.error(error)
  process.exitCode = 1
})
