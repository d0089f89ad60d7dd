#!/usr/bin/env bash
# engine7.test.sh — every case of engine.test.sh under Prisma 7.10.1 (../shared/oracle7), rehearse on the 7.10.1
# profile. A test of its own so that ctest runs the two versions in parallel.
export REHEARSE_CONFORMANCE_PRISMA=7.10.1
exec bash "$(dirname "${BASH_SOURCE[0]}")/engine.test.sh" "$@"
