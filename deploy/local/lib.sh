#!/usr/bin/env bash
# shellcheck shell=bash
#
# Helpers shared by deploy/local/run, deploy/local/test and .ci/run.
#
# Meant to be sourced. It deliberately leaves the caller's shell options alone
# (the entry scripts run under `set -euo pipefail` themselves); every helper
# fails loudly through crm_die instead of relying on errexit. Executing the
# file runs one helper in strict mode, e.g. `deploy/local/lib.sh ensure_nats`.
#
# Environment:
#   CRM_POSTGRES_URL  default postgres://postgres@127.0.0.1:5432
#   CRM_NATS_URL      default nats://127.0.0.1:4222
#     Pointing either somewhere other than the local default means "that
#     server is managed elsewhere": nothing is installed or started, we only
#     wait for it.
#   CRM_PG_DATA       data dir of the project-local cluster
#                     (default $CRM_ROOT/.local/postgres)
#   CARGO_TARGET_DIR  default $HOME/.cache/crm-target, shared by every clone
#                     on the machine so a fresh CI clone reuses the build.

# --- basics -----------------------------------------------------------------

# Repo root: this file lives in <root>/deploy/local.
crm_root() {
	(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
}

crm_log() {
	printf '[crm] %s\n' "$*" >&2
}

# exit (not return): callers may invoke helpers in contexts where errexit is
# suspended, and a half-provisioned environment must never look like success.
crm_die() {
	printf '[crm] error: %s\n' "$*" >&2
	exit 1
}

# Gitignored scratch space for local servers, logs and dev secrets.
crm_local_dir() {
	mkdir -p "$CRM_ROOT/.local"
	printf '%s\n' "$CRM_ROOT/.local"
}

# crm_wait_for SECONDS CMD...: retry CMD every 0.5s until it succeeds.
crm_wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.5
	done
}

# crm_port_open HOST PORT: does something accept TCP there? Uses bash's
# /dev/tcp so no netcat is needed; `timeout` guards against blackholed hosts.
crm_port_open() {
	if command -v timeout >/dev/null 2>&1; then
		# shellcheck disable=SC2016 # $1/$2 expand in the inner bash
		timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
	else
		(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
	fi
}

# crm_url_hostport URL DEFAULT_PORT -> "HOST PORT". Handles user:pass@,
# [ipv6], paths/queries and NATS comma-separated server lists (first entry).
crm_url_hostport() {
	local rest=$1 host port
	rest=${rest#*://}
	rest=${rest%%,*}
	rest=${rest%%[/?#]*}
	rest=${rest##*@}
	if [[ $rest == \[* ]]; then
		host=${rest%%]*}
		host=${host#[}
		port=${rest#*]}
		port=${port#:}
	elif [[ $rest == *:* ]]; then
		host=${rest%:*}
		port=${rest##*:}
	else
		host=$rest
		port=
	fi
	printf '%s %s\n' "${host:-127.0.0.1}" "${port:-$2}"
}

# crm_is_local_default HOST PORT DEFAULT_PORT: only the default loopback
# endpoint is ours to install/start; anything else is someone else's server.
crm_is_local_default() {
	[[ ($1 == 127.0.0.1 || $1 == localhost) && $2 == "$3" ]]
}

# --- privileges and apt -----------------------------------------------------

crm__can_root() {
	[[ $EUID -eq 0 ]] || command -v sudo >/dev/null 2>&1
}

# Run as root: directly when root, else via sudo (-n when there is no
# terminal, so CI fails fast instead of hanging on a password prompt).
crm_as_root() {
	if [[ $EUID -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		if [[ -t 0 ]]; then sudo "$@"; else sudo -n "$@"; fi
	else
		crm_die "need root for '$*' but not root and sudo is not installed"
	fi
}

# Check we can use apt at all and refresh the lists once per process
# (fresh containers ship with empty lists). Args only feed the error text.
crm__apt_prepare() {
	command -v apt-get >/dev/null 2>&1 ||
		crm_die "apt-get not found; install these by hand: $*"
	crm__can_root ||
		crm_die "not root and sudo is missing; as root run: apt-get update && apt-get install -y $*"
	if [[ -z ${CRM__APT_UPDATED:-} ]]; then
		crm_log "apt-get update"
		crm_as_root env DEBIAN_FRONTEND=noninteractive \
			apt-get -q -o DPkg::Lock::Timeout=300 update >&2 ||
			crm_die "apt-get update failed"
		CRM__APT_UPDATED=1
	fi
}

crm_apt_install() {
	crm__apt_prepare "$@"
	crm_log "apt-get install -y $*"
	crm_as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get -q -y -o DPkg::Lock::Timeout=300 install "$@" >&2 ||
		crm_die "apt-get install $* failed"
}

# Is PKG a real (installable, not purely virtual) package in the apt lists?
crm__apt_has() {
	apt-cache show --no-all-versions "$1" 2>/dev/null | grep -q '^Package:'
}

# --- Rust -------------------------------------------------------------------

ensure_rust() {
	if ! command -v cargo >/dev/null 2>&1; then
		if [[ -x ${HOME:-}/.cargo/bin/cargo ]]; then
			# rustup installs here but non-login shells (CI) often lack it on PATH.
			export PATH="$HOME/.cargo/bin:$PATH"
		else
			crm_die "cargo not found (not on PATH, no ~/.cargo/bin/cargo). Install a Rust toolchain" \
				"(see rust-version in Cargo.toml) with rustup or your package manager; these scripts cannot download it."
		fi
	fi
	crm_log "Rust: $(cargo --version 2>/dev/null || echo 'cargo (version unknown)'), CARGO_TARGET_DIR=$CARGO_TARGET_DIR"
}

# --- PostgreSQL -------------------------------------------------------------

# Newest PostgreSQL bin dir holding the server tools (pg_ctl, initdb); Debian
# keeps them off PATH under /usr/lib/postgresql/<ver>/bin. $1 = preferred
# major version (e.g. the PG_VERSION of an existing data dir).
crm_pg_bindir() {
	local want=${1:-} d found=
	if [[ -n $want ]]; then
		[[ -x /usr/lib/postgresql/$want/bin/pg_ctl ]] || return 1
		printf '%s\n' "/usr/lib/postgresql/$want/bin"
		return 0
	fi
	# resolve symlinks (e.g. /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin)
	if d=$(command -v initdb 2>/dev/null) && d=$(readlink -f "$d") && [[ -x ${d%/*}/pg_ctl ]]; then
		printf '%s\n' "${d%/*}"
		return 0
	fi
	while IFS= read -r d; do
		if [[ -x $d/pg_ctl && -x $d/initdb ]]; then found=$d; fi
	done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V)
	[[ -n $found ]] && printf '%s\n' "$found"
}

# Path of a client tool (pg_isready, psql). Skips Debian's /usr/bin pg_wrapper
# when no client package backs it: then it only prints an error.
crm__pg_client() {
	local p
	while IFS= read -r p; do
		if [[ -x $p ]]; then
			printf '%s\n' "$p"
			return 0
		fi
	done < <(printf '%s\n' /usr/lib/postgresql/*/bin/"$1" | sort -rV)
	p=$(command -v "$1" 2>/dev/null) || return 1
	[[ $(readlink -f "$p") != */pg_wrapper ]] && printf '%s\n' "$p"
}

# crm_pg_ready HOST PORT: server up and accepting? pg_isready when available
# (it also tells "port open but still starting up"), else a TCP probe.
crm_pg_ready() {
	local isready rc=0
	if isready=$(crm__pg_client pg_isready); then
		# -U postgres: probing as e.g. root would log "role does not exist"
		"$isready" -q -h "$1" -p "$2" -U postgres -t 2 || rc=$?
		case $rc in
		0) return 0 ;;
		1 | 2) return 1 ;; # 1 = rejecting (starting up), 2 = no response
		esac             # 3 = bad invocation: fall back to TCP
	fi
	crm_port_open "$1" "$2"
}

# "VERSION NAME STATUS" of the first Debian cluster configured for port $1.
crm__debian_cluster() {
	command -v pg_lsclusters >/dev/null 2>&1 || return 1
	pg_lsclusters --no-header 2>/dev/null |
		awk -v p="$1" '$3 == p { print $1, $2, $4; found = 1; exit } END { exit !found }'
}

# pg_ctlcluster VERSION NAME ACTION. Under systemd let it redirect to the
# unit so systemd supervises the server; without systemd (containers) the
# redirect cannot work, so skip it.
crm__pg_ctlcluster() {
	if [[ -d /run/systemd/system ]]; then
		crm_as_root pg_ctlcluster "$@"
	else
		crm_as_root pg_ctlcluster --skip-systemctl-redirect "$@"
	fi
}

# Run as the cluster owner: postgres refuses to run as root, so root switches
# to the `postgres` user; anyone else owns their cluster. cd / because the
# postgres user may not be allowed into the caller's cwd.
crm__pg_as_owner() {
	if [[ $EUID -ne 0 ]]; then
		"$@"
	elif command -v runuser >/dev/null 2>&1; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && su postgres -s /bin/sh -c "$(printf '%q ' "$@")")
	fi
}

# Create (first time) and start a project-local cluster on 127.0.0.1:$2.
crm__pg_start_local() {
	local bindir=$1 port=$2 data log ver home sockdir
	data=${CRM_PG_DATA:-$(crm_local_dir)/postgres}
	if [[ $EUID -eq 0 ]]; then
		getent passwd postgres >/dev/null ||
			crm_die "no 'postgres' user to own the local cluster (it comes with the postgresql package)"
		mkdir -p "$data"
		chown postgres: "$data"
		chmod 700 "$data"
		if ! crm__pg_as_owner test -w "$data"; then
			# e.g. a clone under /root (mode 700): postgres cannot reach it, so
			# keep this clone's cluster in the postgres home instead.
			rmdir "$data" 2>/dev/null || true
			home=$(getent passwd postgres | cut -d: -f6)
			data=$home/crm-$(printf '%s' "$CRM_ROOT" | cksum | cut -d' ' -f1)
			crm_log "PostgreSQL: user postgres cannot access $CRM_ROOT; using $data instead"
			mkdir -p "$data"
			chown postgres: "$data"
			chmod 700 "$data"
		fi
	else
		mkdir -p "$data"
		chmod 700 "$data"
	fi
	log=$data.log

	if [[ ! -f $data/PG_VERSION ]]; then
		crm_log "PostgreSQL: initdb $data (trust auth, 127.0.0.1:$port)"
		# -A trust: local dev/CI cluster, loopback only; matches the password-less URL.
		crm__pg_as_owner "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C >/dev/null ||
			crm_die "initdb failed for $data"
		# Unix sockets have a ~107 byte path limit; fall back to TCP only.
		sockdir=$data
		((${#data} < 90)) || sockdir=
		cat >>"$data/postgresql.conf" <<EOF

# --- added by deploy/local/lib.sh (project-local dev cluster) ---
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockdir'
# every service has its own pool and the tests run in parallel
max_connections = 200
# throwaway dev data: faster commits, still crash-consistent
synchronous_commit = off
EOF
	fi

	ver=$(<"$data/PG_VERSION")
	bindir=$(crm_pg_bindir "$ver") ||
		crm_die "$data was created by PostgreSQL $ver, which is not installed; install postgresql-$ver or remove $data"

	if crm__pg_as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		crm_log "PostgreSQL: local cluster $data already running"
		return 0
	fi
	touch "$log"
	if [[ $EUID -eq 0 ]]; then chown postgres: "$log"; fi
	crm_log "PostgreSQL: starting local cluster $data (log $log)"
	crm__pg_as_owner "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 30 start >/dev/null ||
		crm_die "pg_ctl start failed for $data; last log lines:
$(tail -n 20 "$log" 2>/dev/null)"
}

crm__pg_auth_ok() {
	PGCONNECT_TIMEOUT=5 "$1" -w -X -Atq -d "$CRM_POSTGRES_URL" -c 'select 1' >/dev/null 2>&1
}

# The local default URL has no password, so the server must trust loopback.
# A cluster that apt created during this run (Debian default: scram for TCP)
# is fixed up; an existing one is left alone with instructions.
crm__pg_check_auth() {
	local ver=${1:-} name=${2:-} psql out hba cluster
	psql=$(crm__pg_client psql) || return 0
	out=$(PGCONNECT_TIMEOUT=5 "$psql" -w -X -Atq -d "$CRM_POSTGRES_URL" -c 'select 1' 2>&1) && return 0
	case $out in
	*authentication* | *password* | *pg_hba.conf*) ;;
	*)
		crm_log "warning: test query against $CRM_POSTGRES_URL failed: $out"
		return 0
		;;
	esac
	hba=/etc/postgresql/$ver/$name/pg_hba.conf
	if [[ -n ${CRM__PG_INSTALLED:-} && -n $ver && -f $hba ]]; then
		crm_log "PostgreSQL: fresh install; trusting 127.0.0.1 and ::1 in $hba"
		crm_as_root sed -i -e '1i host all all 127.0.0.1/32 trust' -e '1i host all all ::1/128 trust' "$hba"
		crm__pg_ctlcluster "$ver" "$name" reload
		crm_wait_for 10 crm__pg_auth_ok "$psql" ||
			crm_die "PostgreSQL still rejects $CRM_POSTGRES_URL after editing $hba"
		return 0
	fi
	# name the file to edit when it is a Debian cluster
	if [[ ! -f $hba ]] && cluster=$(crm__debian_cluster 5432); then
		read -r ver name _ <<<"$cluster"
		hba=/etc/postgresql/$ver/$name/pg_hba.conf
	fi
	[[ -f $hba ]] || hba=pg_hba.conf
	crm_die "PostgreSQL on 127.0.0.1 rejected $CRM_POSTGRES_URL: $out
The local setup expects trust auth on loopback: put 'host all all 127.0.0.1/32 trust'
at the top of $hba and reload, or set CRM_POSTGRES_URL to a URL with a password."
}

# Make sure PostgreSQL answers at CRM_POSTGRES_URL. Quick no-op when it does.
ensure_postgres() {
	local host port bindir cluster ver='' name='' status='' pkgs
	read -r host port < <(crm_url_hostport "$CRM_POSTGRES_URL" 5432)

	if crm_pg_ready "$host" "$port"; then
		crm_log "PostgreSQL: $host:$port is up"
		if crm_is_local_default "$host" "$port" 5432; then crm__pg_check_auth; fi
		return 0
	fi

	if ! crm_is_local_default "$host" "$port" 5432; then
		crm_log "PostgreSQL: waiting for $host:$port (CRM_POSTGRES_URL is not the local default; not installing/starting anything)"
		crm_wait_for 30 crm_pg_ready "$host" "$port" ||
			crm_die "PostgreSQL at $host:$port did not accept connections within 30s (CRM_POSTGRES_URL=$CRM_POSTGRES_URL)"
		return 0
	fi

	if ! bindir=$(crm_pg_bindir); then
		crm_log "PostgreSQL: no server binaries (pg_ctl/initdb) found; installing from apt"
		crm__apt_prepare postgresql
		pkgs=(postgresql)
		# bookworm ships pg_trgm etc. inside postgresql-15; older/other
		# releases need the separate contrib package.
		if crm__apt_has postgresql-contrib; then pkgs+=(postgresql-contrib); fi
		crm_apt_install "${pkgs[@]}"
		CRM__PG_INSTALLED=1
		bindir=$(crm_pg_bindir) ||
			crm_die "installed postgresql but found no pg_ctl/initdb under /usr/lib/postgresql/*/bin"
	fi

	# Prefer the machine's Debian cluster on our port (the package creates
	# one); without root rights to start it, run our own instead.
	if cluster=$(crm__debian_cluster "$port") && crm__can_root; then
		read -r ver name status <<<"$cluster"
		if [[ $status != online* ]]; then
			crm_log "PostgreSQL: starting Debian cluster $ver/$name"
			crm__pg_ctlcluster "$ver" "$name" start ||
				crm_die "pg_ctlcluster $ver $name start failed; see /var/log/postgresql/postgresql-$ver-$name.log"
		fi
	else
		crm__pg_start_local "$bindir" "$port"
	fi

	crm_wait_for 30 crm_pg_ready "$host" "$port" ||
		crm_die "PostgreSQL did not accept connections on $host:$port within 30s" \
			"(check pg_lsclusters / the log under $CRM_ROOT/.local or /var/log/postgresql)"
	crm_log "PostgreSQL: $host:$port is up"
	crm__pg_check_auth "$ver" "$name"
}

# --- NATS -------------------------------------------------------------------

crm__nats_bin() {
	if command -v nats-server 2>/dev/null; then return 0; fi
	# /usr/sbin is not on a normal user's PATH
	[[ -x /usr/sbin/nats-server ]] && printf '%s\n' /usr/sbin/nats-server
}

# Make sure NATS (with JetStream) answers at CRM_NATS_URL.
ensure_nats() {
	local host port bin dir log out pidfile pid
	read -r host port < <(crm_url_hostport "$CRM_NATS_URL" 4222)

	if crm_port_open "$host" "$port"; then
		crm_log "NATS: $host:$port is up"
		return 0
	fi

	if ! crm_is_local_default "$host" "$port" 4222; then
		crm_log "NATS: waiting for $host:$port (CRM_NATS_URL is not the local default; not installing/starting anything)"
		crm_wait_for 30 crm_port_open "$host" "$port" ||
			crm_die "NATS at $host:$port did not accept connections within 30s (CRM_NATS_URL=$CRM_NATS_URL)"
		return 0
	fi

	if ! bin=$(crm__nats_bin); then
		crm_log "NATS: nats-server not found; installing from apt"
		crm_apt_install nats-server
		bin=$(crm__nats_bin) || crm_die "installed nats-server but cannot find the binary"
		# the package may have started its own service
		if crm_wait_for 3 crm_port_open "$host" "$port"; then
			crm_log "NATS: $host:$port is up"
			return 0
		fi
	fi

	dir=$(crm_local_dir)
	log=$dir/nats.log
	out=$dir/nats.out
	pidfile=$dir/nats.pid
	mkdir -p "$dir/nats"
	pid=$(cat "$pidfile" 2>/dev/null || true)
	if [[ $pid =~ ^[0-9]+$ && $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" || true) == *"$dir/nats"* ]]; then
		crm_log "NATS: our nats-server (pid $pid) is running; waiting for the port"
	else
		crm_log "NATS: starting nats-server with JetStream on 127.0.0.1:$port (store $dir/nats, log $log)"
		# New session + nohup: the server must outlive this script (run execs
		# into the app, CI steps exit) and must not hold our stdout open.
		# Output before logging starts (bad flags, port in use) goes to $out.
		local launcher=(nohup)
		if command -v setsid >/dev/null 2>&1; then launcher=(setsid nohup); fi
		"${launcher[@]}" "$bin" -a 127.0.0.1 -p "$port" -js -sd "$dir/nats" -l "$log" -P "$pidfile" \
			</dev/null >"$out" 2>&1 &
	fi

	crm_wait_for 15 crm_port_open "$host" "$port" ||
		crm_die "NATS did not open $host:$port within 15s; last lines of $out and $log:
$(tail -n 20 "$out" "$log" 2>/dev/null)"
	crm_log "NATS: $host:$port is up"
}

# --- buf (protobuf lint and breaking-change checks) -----------------------------

# Installs the buf CLI pinned in tools/buf/package-lock.json with `npm ci` (the
# @bufbuild/buf package ships the binary; nothing else is downloaded) when it is
# missing or the lock changed since, and prints the path of the binary. Install
# scripts are skipped: the package's launcher finds its platform binary without them.
ensure_buf() {
	local dir=$CRM_ROOT/tools/buf bin
	bin=$dir/node_modules/.bin/buf
	if ! command -v npm >/dev/null 2>&1; then
		crm_log "buf: npm not found; installing it from apt"
		crm_apt_install npm
	fi
	# npm keeps a copy of the lock it installed from in node_modules/.package-lock.json
	if [[ ! -x $bin || $dir/package-lock.json -nt $dir/node_modules/.package-lock.json ]]; then
		crm_log "buf: npm ci in tools/buf"
		(cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2 ||
			crm_die "npm ci in $dir failed"
	fi
	"$bin" --version >/dev/null 2>&1 || crm_die "$bin does not run (is node on PATH?)"
	printf '%s\n' "$bin"
}

# crm_buf ARGS...: runs the pinned buf in proto/, where buf.yaml is: `crm_buf lint`,
# `crm_buf breaking --against released/crm.binpb`, `crm_buf build ...`.
crm_buf() {
	local bin
	bin=$(ensure_buf) || exit 1
	(cd "$CRM_ROOT/proto" && "$bin" "$@")
}

# --- defaults (computed at source time) ---------------------------------------

CRM_ROOT=$(crm_root)
export CRM_ROOT
export CRM_POSTGRES_URL="${CRM_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
export CRM_NATS_URL="${CRM_NATS_URL:-nats://127.0.0.1:4222}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:?HOME must be set}/.cache/crm-target}"

# Executed rather than sourced: run one helper in strict mode.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	case ${1:-} in
	ensure_postgres | ensure_nats | ensure_rust | ensure_buf | crm_buf | crm_root) "$@" ;;
	*)
		echo "usage: $0 ensure_postgres|ensure_nats|ensure_rust|ensure_buf|crm_buf ARGS...|crm_root" >&2
		exit 2
		;;
	esac
fi
