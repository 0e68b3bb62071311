#!/usr/bin/env bash
# STYLE.md §2 (MUST): a library includes only layers to its left:
#   udf (with mesh/) <- dare <- recrypt <- meshprofile <- { recryptd, tools }
# and public headers include no <sodium.h>, RapidJSON, Boost or spdlog.
set -u
cd "$(dirname "$0")/.."
order=(udf dare recrypt meshprofile)
bad=0
for i in "${!order[@]}"; do
    lib=${order[$i]}
    [ -d "lib$lib" ] || continue
    for j in "${!order[@]}"; do
        [ "$j" -gt "$i" ] || continue
        higher=${order[$j]}
        if hits=$(grep -rnE "#include *[<\"]$higher/" "lib$lib"); then
            echo "lib$lib includes $higher/ (upward):"; echo "$hits"; bad=1
        fi
    done
    if hits=$(grep -rnE '#include *<(sodium|rapidjson|boost|spdlog|openssl)' "lib$lib/include" "lib$lib/client/include" 2>/dev/null); then
        echo "public headers of lib$lib include third-party headers:"; echo "$hits"; bad=1
    fi
    # Boost only in the daemon, the tool, and the client transport (mesh::recrypt_client,
    # librecrypt/client, which issue 5 puts on Beast) and its test.
    if hits=$(grep -rnE '#include *<(boost|spdlog)' "lib$lib" | grep -vE '^librecrypt/(client/src/|tests/client_test)'); then
        echo "lib$lib uses Boost or spdlog (daemon, tool and client transport only):"; echo "$hits"; bad=1
    fi
done
if [ $bad = 0 ]; then echo "layering: 1 passed, 0 failed"; else echo "layering: 0 passed, 1 failed"; fi
exit $bad
