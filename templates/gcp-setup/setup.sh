#!/usr/bin/env bash
# One-time Google Cloud setup for pmcp/deploy-action's google-cloud-run target.
#
# Run once per project by someone who may administer it (Owner, or Workload Identity Pool Admin +
# Service Account Admin + Project IAM Admin + Artifact Registry Admin + Secret Manager Admin +
# Service Usage Admin), with gcloud signed in:
#
#   PROJECT_ID=my-project REPOSITORY=my-org/my-mcp-server REGION=us-central1 \
#     bash templates/gcp-setup/setup.sh
#
# It makes GitHub Actions runs of that one repository able to deploy to Cloud Run without a key:
# a Workload Identity pool and an OIDC provider that admits only that repository's tokens, a deploy
# service account those tokens may impersonate, the roles the action needs, and an Artifact Registry
# Docker repository for the images. Safe to run again: it looks each resource up before creating it,
# and IAM bindings that already exist are left as they are. At the end it prints the values of the
# action's inputs `workload-identity-provider` and `service-account`.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: setup.sh [--flag value ...]     (each flag can also be given as an environment variable)

Required
  --project-id       PROJECT_ID        the Google Cloud project id (my-project)
  --repository       REPOSITORY        the GitHub repository allowed to deploy, owner/name exactly as
                                       GitHub spells it (no wildcards)
Optional
  --region           REGION            Cloud Run region, where the image repository goes [us-central1]
  --server-name      SERVER_NAME       [server] name of .pmcp/deploy.toml, for the printed next steps
  --pool             POOL              Workload Identity pool id [github]
  --provider         PROVIDER          Workload Identity provider id [gh-<repository name>]
  --service-account  SERVICE_ACCOUNT   id of the deploy service account [pmcp-deploy]
  --artifact-repository ARTIFACT_REPOSITORY
                                       Artifact Registry Docker repository ([gcp] repository) [pmcp]
  --runtime-service-account RUNTIME_SERVICE_ACCOUNT
                                       the account the Cloud Run service runs as [the project's
                                       Compute Engine default service account, Cloud Run's default]
  --secrets          SECRETS           [secrets] names of deploy.toml, comma-separated: each becomes a
                                       Secret Manager secret (created empty when missing) the runtime
                                       account may read
  --issuer-uri       ISSUER_URI        GitHub's OIDC issuer [https://token.actions.githubusercontent.com];
                                       GHE.com: https://token.actions.<subdomain>.ghe.com,
                                       GitHub Enterprise Server: https://<host>/_services/token
  --retry-delay      RETRY_DELAY       seconds between retries of an IAM change that Google has not
                                       caught up with yet (a service account created seconds ago) [10]
EOF
}

die() {
  printf 'setup.sh: %s\n' "$*" >&2
  exit 1
}

step() {
  printf '==> %s\n' "$*"
}

readonly SETTINGS=(PROJECT_ID REPOSITORY REGION SERVER_NAME POOL PROVIDER SERVICE_ACCOUNT ARTIFACT_REPOSITORY
  RUNTIME_SERVICE_ACCOUNT SECRETS ISSUER_URI RETRY_DELAY)

# --some-flag value (or --some-flag=value) sets SOME_FLAG; flags win over the environment.
parse_flags() {
  while (($# > 0)); do
    local flag=$1 value
    case $flag in
      -h | --help)
        usage
        exit 0
        ;;
      --*=*)
        value=${flag#*=}
        flag=${flag%%=*}
        ;;
      --*)
        (($# >= 2)) || die "$flag needs a value (see --help)"
        value=$2
        shift
        ;;
      *) die "unexpected argument '$flag': settings are flags (--project-id my-project) or environment variables (see --help)" ;;
    esac
    shift
    local name=${flag#--}
    name=${name^^}
    name=${name//-/_}
    [[ " ${SETTINGS[*]} " == *" $name "* ]] || die "unknown flag $flag (see --help)"
    printf -v "$name" '%s' "$value"
  done
}

# Checks value against an extended regular expression; the message says what is allowed.
require_match() {
  local name=$1 value=$2 pattern=$3 allowed=$4
  [[ $value =~ $pattern ]] || die "$name '$value' is not valid: $allowed"
}

# A Workload Identity provider id for the repository: gh-<name>, lower case, at most 32 characters.
default_provider_id() {
  local id="gh-${REPOSITORY#*/}"
  id=${id,,}
  id=${id//[^a-z0-9-]/-}
  id=${id:0:32}
  while [[ $id == *- ]]; do id=${id%-}; done
  while ((${#id} < 4)); do id+=0; done
  printf '%s' "$id"
}

validate_settings() {
  [[ -n ${PROJECT_ID:-} ]] || die 'PROJECT_ID is required (the project id, e.g. my-project): --project-id or PROJECT_ID=...'
  [[ -n ${REPOSITORY:-} ]] || die 'REPOSITORY is required (owner/name of the GitHub repository): --repository or REPOSITORY=...'
  REGION=${REGION:-us-central1}
  POOL=${POOL:-github}
  SERVICE_ACCOUNT=${SERVICE_ACCOUNT:-pmcp-deploy}
  ARTIFACT_REPOSITORY=${ARTIFACT_REPOSITORY:-pmcp}
  ISSUER_URI=${ISSUER_URI:-https://token.actions.githubusercontent.com}
  RETRY_DELAY=${RETRY_DELAY:-10}
  SECRETS=${SECRETS:-}
  SERVER_NAME=${SERVER_NAME:-}
  RUNTIME_SERVICE_ACCOUNT=${RUNTIME_SERVICE_ACCOUNT:-}

  require_match PROJECT_ID "$PROJECT_ID" '^([a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$' \
    '6 to 30 lower-case letters, digits and hyphens, starting with a letter (the project id, not its name or number)'
  # The repository ends up inside a CEL string literal and an IAM principal: no quotes, spaces or
  # wildcards can get there.
  require_match REPOSITORY "$REPOSITORY" '^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$' \
    'owner/name exactly as GitHub spells it, e.g. my-org/my-mcp-server (no wildcards, no URL)'
  [[ ${REPOSITORY#*/} != . && ${REPOSITORY#*/} != .. ]] || die "REPOSITORY '$REPOSITORY' is not a repository name"
  PROVIDER=${PROVIDER:-$(default_provider_id)}
  require_match REGION "$REGION" '^[a-z]+(-[a-z]+)+[0-9]+$' 'a Cloud Run region such as us-central1 or europe-west1'
  require_match POOL "$POOL" '^[a-z0-9-]{4,32}$' '4 to 32 lower-case letters, digits and hyphens'
  [[ $POOL != gcp-* ]] || die "POOL '$POOL' is not valid: the prefix gcp- is reserved by Google"
  require_match PROVIDER "$PROVIDER" '^[a-z0-9-]{4,32}$' '4 to 32 lower-case letters, digits and hyphens'
  [[ $PROVIDER != gcp-* ]] || die "PROVIDER '$PROVIDER' is not valid: the prefix gcp- is reserved by Google"
  require_match SERVICE_ACCOUNT "$SERVICE_ACCOUNT" '^[a-z][a-z0-9-]{4,28}[a-z0-9]$' \
    'the account id only (pmcp-deploy, not an e-mail): 6 to 30 lower-case letters, digits and hyphens, starting with a letter'
  require_match ARTIFACT_REPOSITORY "$ARTIFACT_REPOSITORY" '^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$' \
    'lower-case letters, digits and hyphens, starting with a letter and ending with a letter or digit, at most 63 characters'
  if [[ -n $RUNTIME_SERVICE_ACCOUNT ]]; then
    require_match RUNTIME_SERVICE_ACCOUNT "$RUNTIME_SERVICE_ACCOUNT" '^[a-z0-9][a-z0-9-]*@[a-z0-9.-]+\.gserviceaccount\.com$' \
      'a service account e-mail, e.g. mcp-runtime@my-project.iam.gserviceaccount.com'
  fi
  if [[ -n $SERVER_NAME ]]; then
    require_match SERVER_NAME "$SERVER_NAME" '^[A-Za-z]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?$' \
      'a letter, then letters, digits and hyphens, at most 64 characters, no hyphen last ([server] name)'
  fi
  require_match ISSUER_URI "$ISSUER_URI" '^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/-]*)?$' \
    "GitHub's OIDC issuer URL, e.g. https://token.actions.githubusercontent.com"
  require_match RETRY_DELAY "$RETRY_DELAY" '^[0-9]+$' 'a whole number of seconds'
  SECRET_NAMES=()
  local secret
  for secret in ${SECRETS//,/ }; do
    require_match 'a name in SECRETS' "$secret" '^[A-Za-z0-9_-]{1,255}$' 'letters, digits, _ and -, as [secrets] names are'
    SECRET_NAMES+=("$secret")
  done
}

# Runs a gcloud `describe`: returns 0 when the resource exists, with what gcloud printed in FOUND,
# and 1 when Google answers NOT_FOUND. Any other failure (no permission, API disabled, no network)
# stops the script rather than being taken for "missing" and answered with a create. (FOUND, not
# stdout: a `die` inside $(...) would only leave the subshell.)
lookup() {
  if FOUND=$(gcloud "$@" 2>"$ERRORS"); then
    return 0
  fi
  if [[ $(<"$ERRORS") == *NOT_FOUND* ]]; then
    return 1
  fi
  cat "$ERRORS" >&2
  die "gcloud $1 $2 $3 failed (above); check that gcloud is signed in with an account that may administer project $PROJECT_ID"
}

# Runs a gcloud IAM change, retrying while Google has not caught up with a resource created moments
# ago ("does not exist") or another change raced this one (ABORTED, concurrent policy changes).
with_iam_retry() {
  local attempt
  for attempt in 1 2 3 4 5 6; do
    if gcloud "$@" 2>"$ERRORS"; then
      return 0
    fi
    if ((attempt < 6)) && [[ $(<"$ERRORS") =~ does\ not\ exist|ABORTED|concurrent\ policy\ changes ]]; then
      printf '    (not visible to IAM yet; retrying in %ss)\n' "$RETRY_DELAY"
      sleep "$RETRY_DELAY"
      continue
    fi
    cat "$ERRORS" >&2
    die "gcloud $1 $2 $3 ... failed (above)"
  done
}

# The principal set and the provider's resource name use the project number, not its id.
read_project_number() {
  PROJECT_NUMBER=$(gcloud projects describe "$PROJECT_ID" --format='value(projectNumber)') ||
    die "cannot read project '$PROJECT_ID' (above): check the project id and that gcloud is signed in to an account that may administer it"
  [[ $PROJECT_NUMBER =~ ^[0-9]+$ ]] || die "project '$PROJECT_ID' has no project number (gcloud answered '$PROJECT_NUMBER')"
}

enable_apis() {
  step "Enabling the APIs the action calls (Cloud Run, Artifact Registry, IAM, IAM Credentials, STS, Secret Manager)"
  gcloud services enable run.googleapis.com artifactregistry.googleapis.com iamcredentials.googleapis.com \
    sts.googleapis.com iam.googleapis.com secretmanager.googleapis.com --project="$PROJECT_ID"
}

ensure_pool() {
  if lookup iam workload-identity-pools describe "$POOL" --project="$PROJECT_ID" --location=global --format='value(state)'; then
    if [[ $FOUND == DELETED ]]; then
      step "Restoring Workload Identity pool $POOL (deleted less than 30 days ago)"
      gcloud iam workload-identity-pools undelete "$POOL" --project="$PROJECT_ID" --location=global
    else
      step "Workload Identity pool $POOL exists"
    fi
  else
    step "Creating Workload Identity pool $POOL"
    gcloud iam workload-identity-pools create "$POOL" --project="$PROJECT_ID" --location=global \
      --display-name='GitHub Actions' --description='GitHub Actions OIDC tokens (pmcp/deploy-action)'
  fi
}

ensure_provider() {
  local condition="assertion.repository == '$REPOSITORY'" state existing_condition existing_issuer
  if lookup iam workload-identity-pools providers describe "$PROVIDER" --project="$PROJECT_ID" --location=global \
    --workload-identity-pool="$POOL" --format='value(state,attributeCondition,oidc.issuerUri)'; then
    IFS=$'\t' read -r state existing_condition existing_issuer <<<"$FOUND"
    # A provider admits tokens for the whole pool: reusing one that admits other repositories (or
    # another issuer) would let them impersonate the deploy account too, so it is never adopted.
    if [[ $existing_condition != "$condition" || $existing_issuer != "$ISSUER_URI" ]]; then
      die "provider $PROVIDER of pool $POOL exists with attribute condition \"$existing_condition\" and issuer $existing_issuer," \
        "not \"$condition\" and $ISSUER_URI. Give another provider id (--provider gh-something), or change that provider" \
        "if nothing else uses it: gcloud iam workload-identity-pools providers update-oidc $PROVIDER --project=$PROJECT_ID" \
        "--location=global --workload-identity-pool=$POOL --attribute-condition=\"$condition\" --issuer-uri=$ISSUER_URI"
    fi
    if [[ $state == DELETED ]]; then
      step "Restoring provider $PROVIDER (deleted less than 30 days ago)"
      gcloud iam workload-identity-pools providers undelete "$PROVIDER" --project="$PROJECT_ID" --location=global \
        --workload-identity-pool="$POOL"
    else
      step "Provider $PROVIDER exists and admits only $REPOSITORY"
    fi
    return
  fi
  step "Creating provider $PROVIDER, admitting only tokens of $REPOSITORY"
  # No --allowed-audiences: the provider then accepts its own resource URL as audience
  # (https://iam.googleapis.com/projects/<number>/.../providers/<provider>), which is what the action
  # asks GitHub for. The attribute condition is the gate: a token of any other repository is
  # refused by STS before any IAM binding is looked at.
  gcloud iam workload-identity-pools providers create-oidc "$PROVIDER" --project="$PROJECT_ID" --location=global \
    --workload-identity-pool="$POOL" --display-name="${REPOSITORY:0:32}" --issuer-uri="$ISSUER_URI" \
    --attribute-mapping='google.subject=assertion.sub,attribute.actor=assertion.actor,attribute.repository=assertion.repository,attribute.repository_owner=assertion.repository_owner,attribute.ref=assertion.ref' \
    --attribute-condition="$condition"
}

# Creates the service account EMAIL (id ACCOUNT_ID in this project) unless it exists.
ensure_service_account() {
  local email=$1 account_id=$2 display_name=$3
  if lookup iam service-accounts describe "$email" --project="$PROJECT_ID" --format='value(disabled)'; then
    [[ $FOUND != True ]] || die "service account $email is disabled; enable it: gcloud iam service-accounts enable $email --project=$PROJECT_ID"
    step "Service account $email exists"
    return
  fi
  [[ -n $account_id ]] || die "service account $email does not exist. Cloud Run runs services as the Compute Engine default" \
    "service account, which Google creates when the Compute Engine API is enabled (gcloud services enable compute.googleapis.com" \
    "--project=$PROJECT_ID); or give --runtime-service-account an account of this project (it is created when missing)"
  step "Creating service account $email"
  gcloud iam service-accounts create "$account_id" --project="$PROJECT_ID" --display-name="$display_name"
}

ensure_artifact_repository() {
  if lookup artifacts repositories describe "$ARTIFACT_REPOSITORY" --project="$PROJECT_ID" --location="$REGION" --format='value(format)'; then
    [[ $FOUND == DOCKER ]] || die "Artifact Registry repository $ARTIFACT_REPOSITORY in $REGION holds $FOUND, not Docker images; give another --artifact-repository"
    step "Artifact Registry repository $REGION/$ARTIFACT_REPOSITORY exists"
    return
  fi
  step "Creating Artifact Registry Docker repository $REGION/$ARTIFACT_REPOSITORY"
  # Created here, once, so the deploy account needs only to push into it (writer), not
  # repositories.create on the whole project.
  gcloud artifacts repositories create "$ARTIFACT_REPOSITORY" --project="$PROJECT_ID" --location="$REGION" \
    --repository-format=docker --description='MCP server images deployed by pmcp/deploy-action'
}

ensure_secret() {
  local name=$1
  if lookup secrets describe "$name" --project="$PROJECT_ID" --format='value(name)'; then
    step "Secret $name exists"
    return
  fi
  step "Creating secret $name (empty: add its value with gcloud secrets versions add $name --data-file=-)"
  gcloud secrets create "$name" --project="$PROJECT_ID" --replication-policy=automatic
}

grant_roles() {
  local deployer="serviceAccount:$DEPLOY_EMAIL"
  local principal_set="principalSet://iam.googleapis.com/projects/$PROJECT_NUMBER/locations/global/workloadIdentityPools/$POOL/attribute.repository/$REPOSITORY"

  step "Letting workflows of $REPOSITORY impersonate $DEPLOY_EMAIL"
  # roles/iam.workloadIdentityUser on the deploy account, for the repository's principal set only:
  # with the federated token STS issues, the action calls generateAccessToken for this one account
  # (every API call) and generateIdToken (the identity token, audience = the service URL, that the
  # smoke test sends to a private service); the role holds getAccessToken and getOpenIdToken, so the
  # account needs no token-creator role on itself. Tokens of other repositories never get here (the
  # provider's condition refuses them).
  with_iam_retry iam service-accounts add-iam-policy-binding "$DEPLOY_EMAIL" --project="$PROJECT_ID" \
    --role=roles/iam.workloadIdentityUser --member="$principal_set" --format=none

  step "Granting $DEPLOY_EMAIL what a deploy needs"
  # roles/run.admin on the project: creates, updates and deletes the service, its revisions, tags
  # and traffic (run.services.create/update/get/delete, run.revisions.list/get, run.operations.get), and
  # run.services.setIamPolicy, which `allow_unauthenticated = true` needs to give allUsers the
  # invoker role (read-modify-write of the service's policy). roles/run.developer has everything
  # but setIamPolicy, so it would fail on a public service. Project level because the service does
  # not exist before the first deploy; run.admin also holds run.routes.invoke, which lets the smoke
  # test call a private service.
  with_iam_retry projects add-iam-policy-binding "$PROJECT_ID" --member="$deployer" --role=roles/run.admin \
    --condition=None --format=none
  # roles/iam.serviceAccountUser on the runtime account only: deploying a revision that runs as an
  # account needs iam.serviceAccounts.actAs on it.
  with_iam_retry iam service-accounts add-iam-policy-binding "$RUNTIME_EMAIL" --project="$PROJECT_ID" \
    --role=roles/iam.serviceAccountUser --member="$deployer" --format=none
  # roles/artifactregistry.writer on the one repository: push image blobs and manifests (and read
  # them back), nothing on other repositories and no repository administration.
  with_iam_retry artifacts repositories add-iam-policy-binding "$ARTIFACT_REPOSITORY" --project="$PROJECT_ID" \
    --location="$REGION" --role=roles/artifactregistry.writer --member="$deployer" --format=none

  local secret
  for secret in "${SECRET_NAMES[@]}"; do
    # roles/secretmanager.secretAccessor on each [secrets] secret, for the runtime account: Cloud Run
    # reads the secret (version latest) as that account when an instance starts, and checks the
    # access when a revision is deployed.
    with_iam_retry secrets add-iam-policy-binding "$secret" --project="$PROJECT_ID" \
      --role=roles/secretmanager.secretAccessor --member="serviceAccount:$RUNTIME_EMAIL" --format=none
  done
}

print_next_steps() {
  local provider_name="projects/$PROJECT_NUMBER/locations/global/workloadIdentityPools/$POOL/providers/$PROVIDER"
  cat <<EOF

Done. IAM changes can take up to 5 minutes to reach every Google service.

The action's inputs (not secrets):

workload-identity-provider: $provider_name
service-account: $DEPLOY_EMAIL

.pmcp/deploy.toml:

[target]
type = "google-cloud-run"

[gcp]
project_id = "$PROJECT_ID"
region = "$REGION"
repository = "$ARTIFACT_REPOSITORY"
EOF
  if [[ -n $SERVER_NAME ]]; then
    printf '\n[server]\nname = "%s"\n' "$SERVER_NAME"
  fi
  if ((${#SECRET_NAMES[@]} > 0)); then
    printf '\n[secrets]\n'
    local secret
    for secret in "${SECRET_NAMES[@]}"; do printf '%s = "Secret Manager secret %s"\n' "$secret" "$secret"; done
  fi
}

main() {
  parse_flags "$@"
  validate_settings
  command -v gcloud >/dev/null || die 'gcloud is not on PATH: install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install) and sign in with gcloud auth login'
  # Never wait for an answer: a prompt in the middle would leave half a setup behind.
  export CLOUDSDK_CORE_DISABLE_PROMPTS=1
  # What the last gcloud call wrote to stderr, to tell NOT_FOUND from other failures.
  ERRORS=$(mktemp)
  trap 'rm -f "$ERRORS"' EXIT

  step "Project $PROJECT_ID"
  read_project_number
  DEPLOY_EMAIL="$SERVICE_ACCOUNT@$PROJECT_ID.iam.gserviceaccount.com"
  RUNTIME_EMAIL=${RUNTIME_SERVICE_ACCOUNT:-$PROJECT_NUMBER-compute@developer.gserviceaccount.com}

  enable_apis
  ensure_pool
  ensure_provider
  ensure_service_account "$DEPLOY_EMAIL" "$SERVICE_ACCOUNT" "pmcp deploy ($REPOSITORY)"
  local runtime_id=''
  if [[ $RUNTIME_EMAIL == *"@$PROJECT_ID.iam.gserviceaccount.com" ]]; then runtime_id=${RUNTIME_EMAIL%@*}; fi
  ensure_service_account "$RUNTIME_EMAIL" "$runtime_id" 'MCP server runtime (Cloud Run)'
  ensure_artifact_repository
  local secret
  for secret in "${SECRET_NAMES[@]}"; do ensure_secret "$secret"; done
  grant_roles
  print_next_steps
}

main "$@"
