// Container files: open (recovery of torn tails, damage detection, index frames), verify, read
// every frame. The input is written to a file first, as open() works on files.
#include <cstdio>
#include <string>

#include <unistd.h>

#include <dare/container.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string path = "/tmp/fuzz_container_" + std::to_string(::getpid()) + ".dare";
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return 0;
    std::fwrite(data, 1, size, f);
    std::fclose(f);
    dare::ContainerOptions o;
    o.sync = dare::SyncPolicy::none;
    o.max_frame_bytes = 1 << 20;
    if (auto c = dare::Container::open(path, o)) {
        (void)c->verify();
        for (std::uint64_t i = 1; i < c->frames() && i < 64; ++i) (void)c->read(i);
        (void)dare::Spool(*c).messages();
    }
    ::unlink(path.c_str());
    return 0;
}
