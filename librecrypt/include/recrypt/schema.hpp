// recrypt/schema.hpp: the group model and the messages of the recryption service
// (seeds 001 §5-6, 002 §4; DESIGN §5; docs/protocol.md has an example of every message).
//
// Requests are {"<Transaction>": {...}} or {"<Transaction>Request": {...}} (both tag forms of the
// reference); responses are {"<Transaction>Response": {"Status": N, "StatusDescription": "..",
// ...}}. Parsing is strict: unknown members, wrong types, missing fields, bad encodings and
// over-long lists are errors that name the JSON path.
// Thread-safety: values. Errors: malformed, unsupported (unknown transaction), limit_exceeded.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <dare/envelope.hpp>
#include <dare/json.hpp>
#include <recrypt/recryption.hpp>

namespace recrypt {

enum class Privilege : std::uint8_t { recrypt, admin, super };
enum class MemberStatus : std::uint8_t { active, suspended, revoked };
std::string_view privilege_name(Privilege p) noexcept;  // "RECRYPT", "ADMIN", "SUPER"
std::string_view status_name(MemberStatus s) noexcept;  // "ACTIVE", "SUSPENDED", "REVOKED"

inline constexpr std::size_t kMaxMembersPerMessage = 1000;
inline constexpr std::size_t kMaxEntriesPerMember = 64;

/// Recryptions allowed per period (seed 002 §3.5: the service as policy point).
struct Quota {
    std::uint64_t limit = 0;
    std::uint64_t period_seconds = 0;
    friend bool operator==(const Quota&, const Quota&) = default;
};

/// A member of a group. The service never returns RecryptionKey.
struct MemberEntry {
    std::string member_udf;                       ///< "MemberUDF": the member's profile UDF
    std::string account_name;                     ///< "AccountName"
    std::vector<Privilege> privileges;            ///< "Privileges"
    MemberStatus status = MemberStatus::active;   ///< "Status"
    std::optional<Quota> quota;                   ///< "Quota"
    std::optional<dare::SignaturePublicKey> authentication_key;  ///< "AuthenticationKey" (ours)
    std::vector<UserDecryptionEntry> entries;     ///< "Entries"
};

/// The group: named by the UDF of its signature key, with its signed current key record.
struct RecryptionGroup {
    std::string group_id;                         ///< "GroupID"
    std::string group_name;                       ///< "GroupName"
    std::optional<dare::SignaturePublicKey> signature_key;  ///< "SignatureKey"
    std::optional<dare::Json> signed_key;         ///< "SignedKey": the current key record
    std::vector<dare::Json> past_keys;            ///< "PastKeys": earlier key records
    std::vector<MemberEntry> members;             ///< "Members"
};

/// Explicit deep copies: entries hold secret scalars, so these types are move-only.
UserDecryptionEntry clone(const UserDecryptionEntry& e);
MemberEntry clone(const MemberEntry& m);
RecryptionGroup clone(const RecryptionGroup& g);

/// The key record a group's signature key signs (what GetKey returns).
struct KeyRecord {
    std::string group_id;
    dare::SignaturePublicKey signature_key;
    Point encryption_key;
    std::string issued;  ///< RFC 3339
};
inline constexpr std::string_view kKeyRecordType = "application/mmm-recrypt-group-key";
/// A signed DARE envelope (JSON value) of the record; the signer must be the group's key.
mesh::Result<dare::Json> sign_key_record(const KeyRecord& record, const dare::SignaturePrivateKey& key,
                                         mesh::RandomSource& rng);
/// Verifies a SignedKey for `group_id`: the signature key's UDF must be the GroupID and the
/// signature must verify with it. auth_failed for any mismatch.
mesh::Result<KeyRecord> verify_key_record(const dare::Json& signed_key, std::string_view group_id);

// ---- messages ------------------------------------------------------------------------------

struct HelloRequest {};
struct CreateGroupRequest { RecryptionGroup group; };
struct UpdateGroupRequest { RecryptionGroup group; };
struct GetGroupRequest { std::string group_id; };
struct AddMemberRequest { std::string group_id; std::vector<MemberEntry> members; };
struct UpdateMemberRequest { std::string group_id; std::vector<MemberEntry> members; };
struct GetKeyRequest { std::string group_id; };
using PointBytes = std::array<std::uint8_t, dare::kPointBytes>;
inline PointBytes to_array(const Point& p) {
    PointBytes b{};
    std::copy(p.bytes().begin(), p.bytes().end(), b.begin());
    return b;
}

struct RecryptDataRequest {
    std::string member_udf;      ///< "MemberUDF": the requester's profile
    std::string member_key_udf;  ///< "MemberKeyUDF": which of the member's keys
    std::string group_key_id;    ///< "GroupKeyID": kid of the group key the data is under (the
                                 ///< service finds the group from it: CombinedToGroup)
    /// "EphemeralKey": T (the seeds leave it out), as sent. Its length is checked when parsed,
    /// not whether it encodes a group element: the service's multiplication decodes it anyway
    /// and refuses a non-canonical encoding or the identity (RecryptionService::partial,
    /// malformed), so a hostile T is still refused, with one decoding instead of two.
    PointBytes ephemeral_key{};
};

using Request = std::variant<HelloRequest, CreateGroupRequest, UpdateGroupRequest, GetGroupRequest,
                             AddMemberRequest, UpdateMemberRequest, GetKeyRequest, RecryptDataRequest>;

/// "Hello", "CreateGroup", ... for a request.
std::string_view transaction_name(const Request& r) noexcept;
/// Parses {"CreateGroup": {...}} or {"CreateGroupRequest": {...}}.
mesh::Result<Request> parse_request(std::string_view text, const dare::JsonLimits& limits = {});
mesh::Result<Request> request_from_json(const dare::Json& j);
/// Writes the transaction-name form, as the reference's code sends it.
dare::Json to_json(const Request& r);

struct Status {
    int code = 201;
    std::string description = "Operation completed successfully";
};

struct HelloResponse { Status status; int major = 1; int minor = 0; };
struct PlainResponse { Status status; };  // CreateGroup, UpdateGroup, AddMember, UpdateMember
struct GetGroupResponse { Status status; std::optional<RecryptionGroup> group; };
struct GetKeyResponse { Status status; std::optional<dare::Json> signed_key; };
struct RecryptDataResponse {
    Status status;
    std::optional<dare::SharedPoint> partial;  ///< "Partial": r·T
    std::vector<dare::Json> decryption_keys;   ///< "DecryptionKey": E(d_i, M)
    std::optional<Point> encryption_key;       ///< "EncryptionKey": A, for the key-encryption key
};

/// {"<Transaction>Response": {...}}.
dare::Json response_to_json(std::string_view transaction, const Status& status, dare::JsonObject fields = {});
/// Splits a response into its transaction name, status and the other fields' object.
struct ResponseView {
    std::string transaction;
    Status status;
    dare::Json body;  ///< the inner object
};
mesh::Result<ResponseView> parse_response(std::string_view text, const dare::JsonLimits& limits = {});

dare::Json to_json(const RecryptionGroup& g, bool with_secrets);
/// `max_members`: requests carry at most kMaxMembersPerMessage; a GetGroup answer lists the
/// whole group (bounded by the client's response size limit).
mesh::Result<RecryptionGroup> group_from_json(const dare::Json& j, const std::string& path,
                                              std::size_t max_members = kMaxMembersPerMessage);
dare::Json to_json(const MemberEntry& m, bool with_secrets);
mesh::Result<MemberEntry> member_from_json(const dare::Json& j, const std::string& path);
mesh::Result<RecryptDataResponse> recrypt_data_response(const ResponseView& v);
mesh::Result<GetKeyResponse> get_key_response(const ResponseView& v);
mesh::Result<GetGroupResponse> get_group_response(const ResponseView& v);

}  // namespace recrypt
