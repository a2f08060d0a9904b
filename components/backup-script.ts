// The shell the backup pods run. Two containers share an emptyDir: the dump runs in the
// PostgreSQL image (pg_dump, gzip), the upload in the AWS CLI image. Each exits non-zero
// on any failure, so Kubernetes marks the Job failed and BackupJobFailed fires.

// Both work in $BACKUP_DIR, /backup unless set (the pod's shared emptyDir; tests point it
// at a scratch directory and run these very scripts).
//
// They are POSIX sh: the images' /bin/sh may be busybox ash, bash or Debian's dash (the
// official postgres:16 image, a Debian toolbox), and dash before 0.5.13 has no pipefail. So
// pipefail is set only where the shell has it, and a pipe whose first command's failure
// matters (pg_dump into gzip) records that failure itself.
const PROLOGUE = "set -eu\nif (set -o pipefail) 2>/dev/null; then set -o pipefail; fi";

/** Dumps $DATABASE_URL, compressed, to /backup/<UTC timestamp>.sql.gz and writes its name. */
export const DUMP_SCRIPT = [
    PROLOGUE,
    'dir="${BACKUP_DIR:-/backup}"',
    'stamp="$(date -u +%Y%m%dT%H%M%SZ)"',
    'out="${dir}/${stamp}.sql.gz"',
    // pg_dump's exit status, not gzip's: an empty dump compresses to a valid, non-empty file.
    'rm -f "${dir}/.pg_dump-failed"',
    '{ pg_dump --no-owner --no-privileges --dbname="$DATABASE_URL" || echo "$?" > "${dir}/.pg_dump-failed"; } | gzip -9 > "$out"',
    'if [ -e "${dir}/.pg_dump-failed" ]; then echo "pg_dump failed (exit $(cat "${dir}/.pg_dump-failed"))" >&2; ' +
        'rm -f "$out" "${dir}/.pg_dump-failed"; exit 1; fi',
    'gzip -t "$out"',
    'test -s "$out"',
    'echo "${stamp}.sql.gz" > "${dir}/NAME"',
    'echo "dumped $(wc -c < "$out") bytes to $out"',
].join("\n");

// The S3 client is pointed at an S3-compatible store (MinIO, Ceph, versitygw) when
// $S3_ENDPOINT_URL is set; otherwise it uses AWS's own endpoint for $AWS_REGION.
const ENDPOINT = 'set --; if [ -n "${S3_ENDPOINT_URL:-}" ]; then set -- --endpoint-url "$S3_ENDPOINT_URL"; fi';

/**
 * Uploads the dump under s3://$BUCKET/$PREFIX/<name> with its SHA-256 as object metadata,
 * then reads the object's size and recorded SHA-256 back and fails unless both match the
 * dump. A restore takes only an object whose content matches its recorded SHA-256, so an
 * interrupted or partial upload can never pass for a complete dump.
 */
export const UPLOAD_SCRIPT = [
    PROLOGUE,
    ENDPOINT,
    'dir="${BACKUP_DIR:-/backup}"',
    'name="$(cat "${dir}/NAME")"',
    'file="${dir}/${name}"',
    'key="${PREFIX}/${name}"',
    'gzip -t "$file"',
    'sum="$(sha256sum "$file" | cut -d " " -f 1)"',
    'size="$(wc -c < "$file" | tr -d " ")"',
    'aws "$@" s3 cp --only-show-errors --sse AES256 --metadata "sha256=${sum}" "$file" "s3://${BUCKET}/${key}"',
    'got="$(aws "$@" s3api head-object --bucket "$BUCKET" --key "$key" --query "[ContentLength, Metadata.sha256]" --output text)"',
    'if [ "$got" != "$(printf \'%s\\t%s\' "$size" "$sum")" ]; then echo "s3://${BUCKET}/${key} does not match ' +
        'the dump: size and sha256 are ${got}, expected ${size} ${sum}" >&2; exit 1; fi',
    'echo "uploaded s3://${BUCKET}/${key} (${size} bytes, sha256 ${sum})"',
].join("\n");

/**
 * Restore, first half (the S3 client's image): fetches $DUMP_KEY, or the newest
 * `<prefix>/*.sql.gz` when it is empty, into $BACKUP_DIR (/restore) and checks it against
 * the SHA-256 recorded at upload and with gzip; writes its key to KEY only then.
 */
export const FETCH_SCRIPT = [
    PROLOGUE,
    ENDPOINT,
    'dir="${BACKUP_DIR:-/restore}"',
    'key="${DUMP_KEY:-}"',
    'if [ -z "$key" ]; then',
    '  key="$(aws "$@" s3api list-objects-v2 --bucket "$BUCKET" --prefix "${PREFIX}/" --query ' +
        '"sort_by(Contents[?ends_with(Key, \'.sql.gz\')] || \\`[]\\`, &Key)[-1].Key" --output text)"',
    '  if [ -z "$key" ] || [ "$key" = None ]; then echo "no dump under s3://${BUCKET}/${PREFIX}/: nothing restored" >&2; exit 1; fi',
    "fi",
    'file="${dir}/dump.sql.gz"',
    'want="$(aws "$@" s3api head-object --bucket "$BUCKET" --key "$key" --query Metadata.sha256 --output text)"',
    'aws "$@" s3 cp --only-show-errors "s3://${BUCKET}/${key}" "$file"',
    'got="$(sha256sum "$file" | cut -d " " -f 1)"',
    'if [ "$got" != "$want" ]; then echo "s3://${BUCKET}/${key} is not a complete dump (sha256 ${got}, ' +
        'recorded at upload: ${want}): nothing restored" >&2; rm -f "$file"; exit 1; fi',
    'gzip -t "$file"',
    'echo "$key" > "${dir}/KEY"',
    'echo "fetched s3://${BUCKET}/${key} ($(wc -c < "$file" | tr -d " ") bytes, sha256 verified)"',
].join("\n");

/**
 * Restore, second half (the PostgreSQL image): replaces schema `public` of
 * $TARGET_DATABASE_URL with the fetched dump in one transaction — the whole dump lands, or
 * nothing changes. With VERIFY_ROW_COUNTS=1 (the restore drill) it then compares each
 * table's rows with the rows the dump holds for it, and fails on any difference.
 */
export const RESTORE_SCRIPT = [
    PROLOGUE,
    'dir="${BACKUP_DIR:-/restore}"',
    'file="${dir}/dump.sql.gz"',
    'key="$(cat "${dir}/KEY")"',
    '{ echo "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;"; gunzip -c "$file"; } | psql --quiet ' +
        '--no-psqlrc --single-transaction -v ON_ERROR_STOP=1 --dbname="$TARGET_DATABASE_URL" > /dev/null',
    'echo "restored ${key}"',
    'if [ "${VERIFY_ROW_COUNTS:-0}" = 1 ]; then',
    // Rows per table in the dump: the lines of each COPY block (one row per line).
    '  gunzip -c "$file" | awk \'/^COPY / { sub(/^COPY /, ""); sub(/ \\(.*$/, ""); sub(/ FROM stdin;$/, ""); t ' +
        '= $0; n = 0; copying = 1; next } copying && /^\\\\\\.$/ { print t, n; copying = 0; next } copying { n++ }\' > "${dir}/expected"',
    "  tables=0; rows=0; bad=0",
    "  while read -r table want; do",
    '    got="$(psql --no-psqlrc -At -v ON_ERROR_STOP=1 --dbname="$TARGET_DATABASE_URL" -c "SELECT count(*) FROM ${table}")"',
    '    if [ "$got" != "$want" ]; then echo "row count of ${table}: ${got} restored, ${want} in the dump" >&2; bad=1; fi',
    "    tables=$((tables + 1)); rows=$((rows + want))",
    '  done < "${dir}/expected"',
    '  if [ "$bad" != 0 ]; then echo "restore drill of ${key} FAILED" >&2; exit 1; fi',
    '  echo "restore drill of ${key}: ${tables} tables, ${rows} rows, every count matches the dump"',
    "fi",
].join("\n");

/**
 * Checks every health endpoint of a service; any non-2xx or connection failure fails. The
 * bodies go to a scratch file, not /dev/null: curl truncates its output before each retry,
 * which /dev/null refuses in Debian's curl 7.88 ("Failed to truncate file"), and a 503 that
 * was retried was then reported as 000, a connection failure (seen on the real node).
 */
export function smokeTestScript(baseUrl: string, paths: string[]): string {
    return [
        "set -eu",
        "failed=0",
        'body="$(mktemp)"',
        "trap 'rm -f \"$body\"' EXIT",
        `for path in ${paths.map((p) => `'${p.replace(/'/g, "")}'`).join(" ")}; do`,
        `  code="$(curl -sS -o "$body" -w '%{http_code}' --max-time 10 --retry 5 --retry-connrefused ` +
            `--retry-delay 3 "${baseUrl}\${path}" || echo 000)"`,
        '  case "$code" in',
        '    2??) echo "ok   $path $code" ;;',
        '    *) echo "FAIL $path $code"; failed=1 ;;',
        "  esac",
        "done",
        'exit "$failed"',
    ].join("\n");
}
