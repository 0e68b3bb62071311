#include <mesh_test/support.hpp>

#include <fstream>
#include <sstream>

#include <rapidjson/error/en.h>

namespace mesh::test {

rapidjson::Document load_vectors(std::string_view name) {
    const std::string path = std::string(MESH_VECTOR_DIR) + "/" + std::string(name);
    std::ifstream in(path, std::ios::binary);
    if (!in) FAIL("cannot open vector file " << path);
    std::stringstream ss;
    ss << in.rdbuf();
    rapidjson::Document doc;
    doc.Parse(ss.str().c_str());
    if (doc.HasParseError()) {
        FAIL("vector file " << path << ": " << rapidjson::GetParseError_En(doc.GetParseError())
                            << " at " << doc.GetErrorOffset());
    }
    return doc;
}

Bytes unhex(std::string_view hex) {
    auto r = hex_decode(hex);
    if (!r) FAIL("bad hex in test: " << r.error().message);
    return std::move(r).value();
}

void FixedRandom::fill(std::span<std::uint8_t> out) {
    if (out.size() > queue_.size()) FAIL("FixedRandom: asked for more bytes than queued");
    for (auto& b : out) {
        b = queue_.front();
        queue_.pop_front();
    }
}

void SeededRandom::fill(std::span<std::uint8_t> out) {
    for (auto& b : out) {
        // splitmix64
        state_ += 0x9E3779B97F4A7C15ULL;
        std::uint64_t z = state_;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        b = static_cast<std::uint8_t>((z ^ (z >> 31)) & 0xFF);
    }
}

}  // namespace mesh::test
