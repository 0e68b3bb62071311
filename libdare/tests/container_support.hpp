// Helpers shared by the container tests.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <dare/container.hpp>

namespace dare_test {
namespace fs = std::filesystem;

struct TempDir {
    TempDir() : path(fs::temp_directory_path() / ("dare_container_" + std::to_string(::getpid()) + "_" + std::to_string(counter++))) {
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
    [[nodiscard]] std::string file(const std::string& name) const { return (path / name).string(); }
    fs::path path;
    static inline int counter = 0;
};

inline dare::ContentMeta object(std::string id, std::string event = "New") {
    dare::ContentMeta m = dare::ContentMeta::of_type("application/json");
    m.unique_id = std::move(id);
    m.event = std::move(event);
    return m;
}

inline mesh::Bytes payload(std::size_t i) {
    const std::string s = "{\"object\":" + std::to_string(i) + ",\"pad\":\"" + std::string(i % 50, 'x') + "\"}";
    return mesh::Bytes(s.begin(), s.end());
}

inline mesh::Bytes read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return mesh::Bytes(std::istreambuf_iterator<char>(in), {});
}

inline void write_file(const std::string& path, const mesh::Bytes& b) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

inline dare::ContainerOptions options_of(dare::SyncPolicy sync, std::size_t max_frame_bytes) {
    dare::ContainerOptions o;
    o.sync = sync;
    o.max_frame_bytes = max_frame_bytes;
    return o;
}

inline const dare::ContainerOptions kFast = options_of(dare::SyncPolicy::none, std::size_t{1} << 20);

}  // namespace dare_test
