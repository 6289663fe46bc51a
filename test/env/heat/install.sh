#!/usr/bin/env bash
# Idempotent install of the Debian packages a real OpenStack Heat + Keystone needs for tests
# (see docs/real-heat.md). Only library packages and PostgreSQL: the daemon packages
# (heat-api, heat-engine, keystone) would pull in uwsgi, dbconfig-common and init scripts we
# never use; test/env/heat/launcher.ts starts everything through /usr/bin/python3 itself.
#
#   python3-heat      Heat 19 (Zed): heat.cmd.all / heat.cmd.manage
#   python3-keystone  Keystone 22: keystone-manage, keystone-wsgi-public (shipped by this package)
#   python3-psycopg2  SQLAlchemy driver for PostgreSQL (Keystone on sqlite fails: "database is locked")
#   postgresql        initdb / pg_ctl under /usr/lib/postgresql/*/bin (a private cluster per run)
#
# Fast path, lock, refused init-script starts: test/env/apt-install.sh.
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/../apt-install.sh" python3-heat python3-keystone python3-psycopg2 postgresql
