// recrypt/request_signature.hpp: authentication of service requests (DESIGN §5), in the style of
// RFC 9421 HTTP Message Signatures with an RFC 9530 Content-Digest.
//
// The client adds three headers:
//   Content-Digest:  sha-512=:<base64 of SHA-512(body)>:
//   Signature-Input: sig1=("@method" "@path" "content-digest");created=<unix>;nonce="<nonce>";keyid="<UDF>";alg="ed25519"
//   Signature:       sig1=:<base64 of the Ed25519 signature>:
// over the RFC 9421 signature base:
//   "@method": POST\n"@path": /.well-known/recrypt\n"content-digest": sha-512=:...:\n
//   "@signature-params": ("@method" "@path" "content-digest");created=...;nonce="...";keyid="...";alg="ed25519"
// The verifier accepts exactly this form (one signature labelled sig1, these three components,
// these four parameters), checks the body's digest, `created` within a window of the server's
// clock, the nonce against a replay cache, and the signature with the key its lookup gives for
// keyid. Every failure is an error that says what was wrong, without echoing secrets.
// Thread-safety: sign/verify are thread-safe; ReplayCache is thread-safe.
// Errors: malformed (headers), auth_failed (digest or signature), not_found (unknown keyid),
// already_exists (nonce seen: a replay), permission_denied (created outside the window),
// limit_exceeded (replay cache full).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <array>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>

#include <dare/keys.hpp>
#include <mesh/random.hpp>
#include <mesh/result.hpp>

namespace recrypt {

struct SignedHeaders {
    std::string content_digest;   ///< Content-Digest
    std::string signature_input;  ///< Signature-Input
    std::string signature;        ///< Signature
};

/// RFC 9530 Content-Digest of a body: "sha-512=:<base64>:".
std::string content_digest(std::span<const std::uint8_t> body);

/// Signs a request. `created` is seconds since the Unix epoch; the nonce is 16 random bytes.
SignedHeaders sign_request(const dare::SignaturePrivateKey& key, std::string_view method, std::string_view path,
                           std::span<const std::uint8_t> body, std::int64_t created, mesh::RandomSource& rng);

/// Remembers nonces so that a request is accepted once. A request created at c is acceptable
/// while |now − c| <= window, so its nonce is kept until now > c + window, and forgotten then
/// (memory follows the request rate times the window, not the run time). Each entry is a
/// 16-byte BLAKE2b digest of (key id, nonce), kept in per-second buckets of `created`.
class ReplayCache final {
public:
    explicit ReplayCache(std::chrono::seconds window = std::chrono::seconds(300), std::size_t capacity = 1'000'000)
        : window_(window), capacity_(capacity) {}
    /// already_exists if (keyid, nonce) is remembered; limit_exceeded if the cache is full.
    mesh::Result<void> check_and_remember(std::string_view keyid, std::string_view nonce, std::int64_t created, std::int64_t now);
    [[nodiscard]] std::size_t size() const;

    using Key = std::array<std::uint8_t, 16>;
    struct KeyHash {
        std::size_t operator()(const Key& k) const noexcept;
    };

private:
    std::chrono::seconds window_;
    std::size_t capacity_;
    mutable std::mutex m_;
    std::unordered_set<Key, KeyHash> seen_;
    std::map<std::int64_t, std::vector<Key>> by_created_;  // expiry
};

struct VerifyOptions {
    std::chrono::seconds window{300};  ///< |now - created| allowed
    std::int64_t now = 0;              ///< the server's clock, seconds since the epoch
    ReplayCache* replay = nullptr;     ///< nonce check when set
    /// Requests created before this time are refused: a replay cache held in memory starts
    /// empty, so requests from before it started are not accepted (permission_denied).
    std::int64_t not_before = 0;
};

struct VerifiedRequest {
    std::string keyid;  ///< the requester's authentication key fingerprint
    std::int64_t created;
};

/// Looks up an authentication key by its fingerprint; nullopt if unknown.
using KeyLookup = std::function<std::optional<dare::SignaturePublicKey>(std::string_view keyid)>;

mesh::Result<VerifiedRequest> verify_request(const SignedHeaders& headers, std::string_view method,
                                             std::string_view path, std::span<const std::uint8_t> body,
                                             const KeyLookup& lookup, const VerifyOptions& options);

}  // namespace recrypt
