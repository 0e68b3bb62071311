#include <udf/digest.hpp>

#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include <unistd.h>

#include <mesh/secure.hpp>
#include <udf/udf.hpp>

namespace udf {
namespace {
constexpr std::uint8_t kColon = ':';

mesh::Digest512 hash(DigestAlg alg, mesh::ByteParts parts) {
    return alg == DigestAlg::sha2_512 ? mesh::sha512(parts) : mesh::sha3_512(parts);
}

std::uint8_t base_type(DigestAlg alg) noexcept {
    return static_cast<std::uint8_t>(alg == DigestAlg::sha2_512 ? Type::digest_sha2_512
                                                                : Type::digest_sha3_512);
}
}  // namespace

unsigned compression_level(std::span<const std::uint8_t, 64> typed_digest) noexcept {
    unsigned zeros = 0;
    for (std::size_t i = typed_digest.size(); i-- > 0;) {
        const std::uint8_t b = typed_digest[i];
        if (b == 0) {
            zeros += 8;
            continue;
        }
        for (std::uint8_t m = 1; (b & m) == 0; m = static_cast<std::uint8_t>(m << 1)) ++zeros;
        break;
    }
    if (zeros >= 50) return 4;
    if (zeros >= 40) return 3;
    if (zeros >= 30) return 2;
    if (zeros >= 20) return 1;
    return 0;
}

mesh::Bytes digest_to_binary(DigestAlg alg, std::string_view content_type,
                             std::span<const std::uint8_t, 64> data_digest) {
    const std::uint8_t colon[1] = {kColon};
    const mesh::Digest512 typed = hash(alg, {mesh::as_bytes(content_type), colon, data_digest});
    mesh::Bytes out;
    out.reserve(1 + typed.size());
    out.push_back(static_cast<std::uint8_t>(base_type(alg) + compression_level(typed)));
    out.insert(out.end(), typed.begin(), typed.end());
    return out;
}

mesh::Bytes content_digest_binary(DigestAlg alg, std::string_view content_type,
                                  std::span<const std::uint8_t> data) {
    ContentDigester d(alg);
    d.update(data);
    return d.finish(content_type);
}

mesh::Result<std::string> content_digest(DigestAlg alg, std::string_view content_type,
                                         std::span<const std::uint8_t> data, unsigned bits) {
    return present(content_digest_binary(alg, content_type, data), bits);
}

ContentDigester::ContentDigester(DigestAlg alg)
    : alg_(alg),
      hasher_(alg == DigestAlg::sha2_512 ? mesh::HashAlg::sha2_512 : mesh::HashAlg::sha3_512) {}

void ContentDigester::update(std::span<const std::uint8_t> data) { hasher_.update(data); }

mesh::Digest512 ContentDigester::finish_data_digest() { return hasher_.finish(); }

mesh::Bytes ContentDigester::finish(std::string_view content_type) {
    const mesh::Digest512 d = finish_data_digest();
    return digest_to_binary(alg_, content_type, d);
}

mesh::Result<void> digest_fd(int fd, ContentDigester& digester) {
    // Two buffers that fit in L2 together; the reader fills them in turn, this thread hashes
    // them in the same order.
    constexpr std::size_t kBlock = std::size_t{128} << 10;
    std::array<std::vector<std::uint8_t>, 2> buf = {std::vector<std::uint8_t>(kBlock),
                                                    std::vector<std::uint8_t>(kBlock)};
    std::array<std::size_t, 2> len = {0, 0};
    std::array<bool, 2> full = {false, false};
    bool done = false;
    int error = 0;
    std::mutex m;
    std::condition_variable cv;

    std::thread reader([&] {
        for (std::size_t i = 0;; i ^= 1U) {
            {
                std::unique_lock lock(m);
                cv.wait(lock, [&] { return !full[i]; });
            }
            ssize_t n = 0;
            do {
                n = ::read(fd, buf[i].data(), kBlock);
            } while (n < 0 && errno == EINTR);
            {
                const std::lock_guard lock(m);
                if (n > 0) {
                    len[i] = static_cast<std::size_t>(n);
                    full[i] = true;
                } else {
                    error = n < 0 ? errno : 0;
                    done = true;
                }
            }
            cv.notify_all();
            if (n <= 0) return;
        }
    });
    for (std::size_t i = 0;; i ^= 1U) {
        {
            std::unique_lock lock(m);
            cv.wait(lock, [&] { return full[i] || done; });
            if (!full[i]) break;  // the reader fills in order: nothing is left behind
        }
        digester.update(std::span(buf[i]).first(len[i]));
        {
            const std::lock_guard lock(m);
            full[i] = false;
        }
        cv.notify_all();
    }
    reader.join();
    if (error != 0) return mesh::fail(mesh::Errc::io, std::string("read: ") + std::strerror(error));
    return mesh::ok();
}

mesh::Bytes authenticator_binary(std::string_view key_string, std::string_view content_type,
                                 std::span<const std::uint8_t, 64> data_sha512) {
    static constexpr std::string_view kMaster = "KeyedUDFMaster";
    static constexpr std::string_view kExpand = "KeyedUDFExpand";
    const mesh::SecureBytes prk =
        mesh::hkdf_extract(mesh::HkdfHash::sha512, mesh::as_bytes(kMaster), mesh::as_bytes(key_string));
    auto okm = mesh::hkdf_expand(mesh::HkdfHash::sha512, prk.expose_secret(),
                                 mesh::as_bytes(kExpand), mesh::kSha512Bytes);
    MESH_ASSERT(okm.has_value());  // 64 bytes is always a valid length
    const std::uint8_t colon[1] = {kColon};
    const mesh::Digest512 mac = mesh::hmac_sha512(
        okm->expose_secret(), {mesh::as_bytes(content_type), colon, data_sha512});
    mesh::Bytes out;
    out.reserve(1 + mac.size());
    out.push_back(static_cast<std::uint8_t>(Type::authenticator_sha2_512));
    out.insert(out.end(), mac.begin(), mac.end());
    return out;
}

}  // namespace udf
