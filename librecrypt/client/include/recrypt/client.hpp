// recrypt/client.hpp: the client of a recryption service (target mesh::recrypt_client).
//
// Client speaks the schema of recrypt/schema.hpp over a Transport, signing every request but
// Hello with the caller's authentication key (recrypt/request_signature.hpp). It is also a
// recrypt::Service, so a MemberAgent can open envelopes through it; open() does that in one
// call. get_key() returns the group key only after checking its signature against the GroupID.
// HttpTransport is HTTP/1.1 over TCP or TLS (Boost.Beast, synchronous, one connection per
// request, a timeout on connecting, writing and reading); tests use any other Transport.
// Thread-safety: a Client or HttpTransport serves one thread at a time.
// Errors: the service's Status mapped to Errc (400 malformed, 401 auth_failed, 403
// permission_denied, 404 not_found, 409 already_exists, 413/429 limit_exceeded, 5xx io), with
// its StatusDescription; io for connection failures and timeouts; malformed for bad answers.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dare/envelope.hpp>
#include <recrypt/agent.hpp>
#include <recrypt/request_signature.hpp>
#include <recrypt/schema.hpp>

namespace recrypt {

inline constexpr std::string_view kServicePath = "/.well-known/recrypt";

struct HttpResponse {
    int status = 0;
    std::string body;
};
using Headers = std::vector<std::pair<std::string, std::string>>;

class Transport {
public:
    virtual ~Transport() = default;
    /// POSTs `body` (application/json) to the service path; returns the HTTP status and body.
    virtual mesh::Result<HttpResponse> post(std::string_view path, std::string_view body, const Headers& headers) = 0;
    /// GETs `path` (public resources such as a group's key record); unsupported by default.
    virtual mesh::Result<HttpResponse> get(std::string_view path, const Headers& headers) {
        (void)path;
        (void)headers;
        return mesh::fail(mesh::Errc::unsupported, "this transport cannot GET");
    }
    /// The request path of the service ("/.well-known/recrypt" under any base path).
    [[nodiscard]] virtual std::string service_path() const { return std::string(kServicePath); }
};

struct HttpOptions {
    std::chrono::milliseconds timeout{10000};
    std::string ca_file;          ///< https: trust these CAs instead of the system's
    bool verify_peer = true;      ///< https: check the certificate and host name
    std::size_t max_body = 8 << 20;
};

/// http://host[:port][/base] or https://host[:port][/base].
class HttpTransport final : public Transport {
public:
    static mesh::Result<std::unique_ptr<HttpTransport>> create(std::string_view url, HttpOptions options = {});
    ~HttpTransport() override;
    mesh::Result<HttpResponse> post(std::string_view path, std::string_view body, const Headers& headers) override;
    mesh::Result<HttpResponse> get(std::string_view path, const Headers& headers) override;
    [[nodiscard]] std::string service_path() const override;

private:
    struct Impl;
    explicit HttpTransport(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

class Client final : public Service {
public:
    /// `member_udf` names the caller in RecryptData; `clock` gives seconds since the epoch.
    Client(Transport& transport, const dare::SignaturePrivateKey& auth_key, std::string member_udf,
           std::function<std::int64_t()> clock = {});

    mesh::Result<void> hello();
    mesh::Result<void> create_group(RecryptionGroup group);
    mesh::Result<void> update_group(RecryptionGroup group);
    mesh::Result<RecryptionGroup> get_group(std::string_view group_id);
    mesh::Result<void> add_member(std::string_view group_id, std::vector<MemberEntry> members);
    mesh::Result<void> update_member(std::string_view group_id, std::vector<MemberEntry> members);
    /// The group's current key record, its signature checked against `group_id`.
    mesh::Result<KeyRecord> get_key(std::string_view group_id);
    /// The same from the public resource GET .../groups/{id}/key: no account needed (a sender
    /// who is not a member), checked the same way.
    mesh::Result<KeyRecord> fetch_key(std::string_view group_id);
    mesh::Result<RecryptDataResponse> recrypt_data(const RecryptDataRequest& request);

    /// Service: RecryptData for (group key, member key, T).
    mesh::Result<RecryptReply> recrypt(std::string_view group_kid, std::string_view member_kid, const Point& t) override;

    /// Opens an envelope (JSON form) with `keys`' private keys, through this service for groups.
    mesh::Result<dare::Decoded> open(const dare::Json& envelope, const std::vector<const dare::PrivateKey*>& keys,
                                     const std::vector<std::string>& memberships = {});

private:
    mesh::Result<ResponseView> call(const Request& request);
    mesh::Result<ResponseView> check(const HttpResponse& http, std::string_view expected);
    Transport& transport_;
    const dare::SignaturePrivateKey& auth_key_;
    std::string member_udf_;
    std::function<std::int64_t()> clock_;
};

}  // namespace recrypt
