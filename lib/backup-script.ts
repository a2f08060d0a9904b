// The shell the backup pods run. Two containers share an emptyDir: the dump runs in the
// PostgreSQL image (pg_dump, gzip), the upload in the AWS CLI image. Each exits non-zero
// on any failure, so Kubernetes marks the Job failed and BackupJobFailed fires.

// Both work in $BACKUP_DIR, /backup unless set (the pod's shared emptyDir; tests point it
// at a scratch directory and run these very scripts).

/** Dumps $DATABASE_URL, compressed, to /backup/<UTC timestamp>.sql.gz and writes its name. */
export const DUMP_SCRIPT = [
    "set -eu -o pipefail",
    'dir="${BACKUP_DIR:-/backup}"',
    'stamp="$(date -u +%Y%m%dT%H%M%SZ)"',
    'out="${dir}/${stamp}.sql.gz"',
    'pg_dump --no-owner --no-privileges --dbname="$DATABASE_URL" | gzip -9 > "$out"',
    'gzip -t "$out"',
    'test -s "$out"',
    'echo "${stamp}.sql.gz" > "${dir}/NAME"',
    'echo "dumped $(wc -c < "$out") bytes to $out"',
].join("\n");

/** Uploads the dump under s3://$BUCKET/$PREFIX/<name> and checks the object exists. */
export const UPLOAD_SCRIPT = [
    "set -eu -o pipefail",
    'dir="${BACKUP_DIR:-/backup}"',
    'name="$(cat "${dir}/NAME")"',
    'key="${PREFIX}/${name}"',
    'aws s3 cp --only-show-errors --sse AES256 "${dir}/${name}" "s3://${BUCKET}/${key}"',
    'aws s3api head-object --bucket "$BUCKET" --key "$key" > /dev/null',
    'echo "uploaded s3://${BUCKET}/${key}"',
].join("\n");

/** Checks every health endpoint of a service; any non-2xx or connection failure fails. */
export function smokeTestScript(baseUrl: string, paths: string[]): string {
    return [
        "set -eu",
        "failed=0",
        `for path in ${paths.map((p) => `'${p.replace(/'/g, "")}'`).join(" ")}; do`,
        `  code="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --retry 5 --retry-connrefused --retry-delay 3 "${baseUrl}\${path}" || echo 000)"`,
        '  case "$code" in',
        '    2??) echo "ok   $path $code" ;;',
        '    *) echo "FAIL $path $code"; failed=1 ;;',
        "  esac",
        "done",
        'exit "$failed"',
    ].join("\n");
}
