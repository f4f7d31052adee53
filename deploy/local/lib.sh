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

# --- the console (web/) ---------------------------------------------------------

# Node.js 20.19 or later (Vite 8's floor) must be on PATH: Debian 12's own nodejs is 18, too
# old, so there is nothing to install from apt; the machine image carries Node 20.
crm_node_ok() {
	command -v node >/dev/null 2>&1 &&
		node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a==20&&b>=19)?0:1)'
}

# `npm ci` in web/ when node_modules is missing or older than the lock.
ensure_web_deps() {
	local dir=$CRM_ROOT/web
	crm_node_ok || crm_die "the console needs Node.js 20.19 or later on PATH (found: $(node --version 2>/dev/null || echo none))"
	if [[ ! -d $dir/node_modules || $dir/package-lock.json -nt $dir/node_modules/.package-lock.json ]]; then
		crm_log "web: npm ci"
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >&2 || crm_die "npm ci in $dir failed"
	fi
}

# Builds the console into web/dist (the gateway serves it; release builds embed it).
crm_build_console() {
	ensure_web_deps
	crm_log "web: npm run build"
	(cd "$CRM_ROOT/web" && npm run --silent build) >&2 || crm_die "the console's build failed"
}

# Debian's Chromium for the browser tests (no browser download): prints its path.
ensure_chromium() {
	local bin
	for bin in /usr/bin/chromium /usr/bin/chromium-browser; do
		if [[ -x $bin ]]; then
			printf '%s\n' "$bin"
			return 0
		fi
	done
	crm_log "chromium not found; installing it from apt"
	crm_apt_install chromium
	[[ -x /usr/bin/chromium ]] || crm_die "apt installed chromium, but /usr/bin/chromium is missing"
	printf '%s\n' /usr/bin/chromium
}

# --- the whole suite, started for tests from outside (the fuzzer, the browser tests) ---------

# Every service the `crm` binary hosts (`crm serve --services all`).
CRM_SERVICES=(gateway accounts leads opportunities forecasting compensation knowledge)

# crm_suite_up NAME CRM: starts `$CRM serve --services all` on ephemeral loopback ports, with
# databases of its own (crm_NAME_<service>, dropped and re-created), its own NATS subject
# prefix and search index, a fixed throwaway signing key, and the demo data loaded. Sets
# CRM_SUITE_ADDR (the front door's host:port), CRM_SUITE_PID and CRM_SUITE_LOG (under
# .local/NAME-suite/). Call crm_suite_down when done (an EXIT trap).
crm_suite_up() {
	local name=$1 crm=$2 service upper base dir
	base=${CRM_POSTGRES_URL%/}
	dir=$(crm_local_dir)/$name-suite
	rm -rf "$dir"
	mkdir -p "$dir"
	CRM_SUITE_NAME=$name
	CRM_SUITE_LOG=$dir/crm.log
	CRM_SUITE_PID=
	for service in "${CRM_SERVICES[@]}"; do
		upper=$(printf '%s' "$service" | tr '[:lower:]' '[:upper:]')
		export "CRM_${upper}_DATABASE_URL=$base/crm_${name}_$service"
	done
	export CRM_KNOWLEDGE_INDEX_DIR=$dir/knowledge-index
	# A fixed dev key: the run is throwaway and local (loopback only).
	export CRM_JWT_KEYS="$name=throwaway-suite-signing-key-of-a-local-test-run-0123456789"
	export CRM_JWT_SIGNING_KEY_ID=$name
	export CRM_EVENT_NAMESPACE="$name$$"
	export CRM_GRPC_ADDR=127.0.0.1:0
	export CRM_METRICS_ADDR=off
	export CRM_GATEWAY_HTTP_ADDR=127.0.0.1:0
	export CRM_LOG=${CRM_LOG:-info}
	export CRM_LOG_FORMAT=json
	crm__suite_drop_databases
	crm_log "$name: crm migrate, crm demo (databases crm_${name}_*, namespace $CRM_EVENT_NAMESPACE)"
	"$crm" migrate --services all >>"$CRM_SUITE_LOG" 2>&1 || crm_die "crm migrate failed; see $CRM_SUITE_LOG"
	"$crm" demo >>"$CRM_SUITE_LOG" 2>&1 || crm_die "crm demo failed; see $CRM_SUITE_LOG"
	"$crm" serve --services all >>"$CRM_SUITE_LOG" 2>&1 &
	CRM_SUITE_PID=$!
	CRM_SUITE_ADDR=
	local _
	for _ in $(seq 1 120); do
		kill -0 "$CRM_SUITE_PID" 2>/dev/null || crm_die "crm serve exited early; last lines of $CRM_SUITE_LOG:
$(tail -n 20 "$CRM_SUITE_LOG")"
		# The front door's address, from its "serving HTTP" log line (the port is ephemeral).
		CRM_SUITE_ADDR=$({ grep -a '"serving HTTP"' "$CRM_SUITE_LOG" || true; } | tail -n 1 |
			sed -n 's/.*"addr":"\([^"]*\)".*/\1/p')
		[[ -n $CRM_SUITE_ADDR ]] && break
		sleep 0.5
	done
	[[ -n $CRM_SUITE_ADDR ]] || crm_die "crm serve did not report its HTTP address within 60s; see $CRM_SUITE_LOG"
	crm_log "$name: suite up at http://$CRM_SUITE_ADDR (log $CRM_SUITE_LOG)"
}

# Stops the suite crm_suite_up started and drops its databases.
crm_suite_down() {
	if [[ -n ${CRM_SUITE_PID:-} ]] && kill -0 "$CRM_SUITE_PID" 2>/dev/null; then
		kill -TERM "$CRM_SUITE_PID" 2>/dev/null || true
		wait "$CRM_SUITE_PID" 2>/dev/null || true
	fi
	CRM_SUITE_PID=
	[[ -n ${CRM_SUITE_NAME:-} ]] && crm__suite_drop_databases
	return 0
}

crm__suite_drop_databases() {
	local psql service base=${CRM_POSTGRES_URL%/}
	psql=$(crm__pg_client psql) || crm_die "psql not found (it comes with the postgresql client package)"
	for service in "${CRM_SERVICES[@]}"; do
		"$psql" -w -X -q -d "$base/postgres" \
			-c "drop database if exists crm_${CRM_SUITE_NAME}_$service with (force)" >/dev/null ||
			crm_log "warning: could not drop crm_${CRM_SUITE_NAME}_$service"
	done
}

# The debug `crm` binary (what the tests from outside run), built if needed; prints its path.
crm_debug_binary() {
	crm_log "cargo build -p crm --bin crm"
	cargo build --quiet -p crm --bin crm >&2 || crm_die "cargo build -p crm failed"
	printf '%s\n' "$CARGO_TARGET_DIR/debug/crm"
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
