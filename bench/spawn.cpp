#include "spawn.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

extern char** environ;

namespace mesh::bench {

ChildResult run_child(const std::vector<std::string>& argv, const std::string& stdout_path) {
    std::vector<std::string> args = argv;
    std::vector<char*> ptrs;
    for (auto& a : args) ptrs.push_back(a.data());
    ptrs.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = 0;
    ChildResult r;
    if (posix_spawnp(&pid, ptrs[0], &fa, nullptr, ptrs.data(), environ) == 0) {
        int status = 0;
        struct rusage ru {};
        ::wait4(pid, &status, 0, &ru);
        r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        r.max_rss_kb = ru.ru_maxrss;
    }
    posix_spawn_file_actions_destroy(&fa);
    return r;
}

}  // namespace mesh::bench
