// Runs a command as a child process for benchmarks: wall time is measured by the caller,
// the child's peak RSS is returned (wait4).
#pragma once

#include <string>
#include <vector>

namespace mesh::bench {

struct ChildResult {
    int exit_code = -1;
    long max_rss_kb = 0;
};

/// Runs argv[0] (searched in PATH) with stdout to `stdout_path` (or /dev/null) and stderr kept.
ChildResult run_child(const std::vector<std::string>& argv, const std::string& stdout_path = "/dev/null");

}  // namespace mesh::bench
