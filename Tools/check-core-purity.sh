#!/usr/bin/env bash
# NavetteCore does no I/O and reads no clock: it imports nothing but swift-crypto
# and calls none of the APIs below. Run from the repository root; exits 1 on a finding.
# (Tests/NavetteCoreTests/ArchitectureTests.swift runs the same rules in the suite.)
set -u
cd "$(dirname "$0")/.."
status=0
if grep -nE '^\s*(@testable\s+)?import\s+' Sources/NavetteCore/*.swift | grep -vE 'import\s+Crypto\s*$'; then
    echo "NavetteCore may import only Crypto"; status=1
fi
if grep -nE '\b(Date\(|FileManager|ProcessInfo|URLSession|DispatchQueue|Thread\.|fopen|getenv|clock_gettime|SystemRandomNumberGenerator)' Sources/NavetteCore/*.swift; then
    echo "NavetteCore must not do I/O or read clocks"; status=1
fi
exit $status
