// Shared pieces of the group, member and encrypt/decrypt commands: the local group records,
// service connections, and opening envelopes as "me" through the services they name.
//
// groups/NAME.json (0600) is what an administrator keeps for a group: its GroupID and service,
// its signature key (the creator), its encryption key, or for a threshold group this
// administrator's share of it, and the members' keys (for entries of a rotated key).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <dare/envelope.hpp>
#include <recrypt/agent.hpp>
#include <recrypt/client.hpp>
#include <recrypt/recryption.hpp>

#include "identity.hpp"

namespace recrypt_cli {

struct MemberKey {
    std::string udf;
    dare::PublicKey encryption;
};

struct ShareRecord {
    unsigned index = 0;
    unsigned threshold = 0;
    unsigned shares = 0;
    recrypt::Scalar value;
};

struct GroupRecord {
    std::string name;
    std::string service;
    std::string group_id;
    dare::PublicKey encryption;                           ///< the current group key
    std::optional<dare::SignaturePrivateKey> signature;   ///< the creator's: signs key records
    std::optional<recrypt::GroupKey> key;                 ///< the whole key (not threshold groups)
    std::optional<ShareRecord> share;                     ///< this administrator's share
    std::vector<MemberKey> members;
};

/// Index, Threshold, Shares and Value of a share, read from `r` (the caller finishes it) and checked.
mesh::Result<ShareRecord> read_share_fields(dare::ObjectReader& r, const std::string& where);

mesh::Result<void> save_group(const std::string& home, const GroupRecord& g);
mesh::Result<GroupRecord> load_group(const std::string& home, const std::string& name);
/// The names of the groups kept here, sorted.
mesh::Result<std::vector<std::string>> group_names(const std::string& home);
/// The group kept here whose current key is `kid`, if any.
std::optional<GroupRecord> group_by_key(const std::string& home, std::string_view kid);

/// --service, else $RECRYPT_SERVICE, else `fallback`.
mesh::Result<std::string> service_url(const std::string& flag, const std::string& fallback = {});
mesh::Result<std::unique_ptr<recrypt::HttpTransport>> transport_for(const std::string& url);

struct Session {
    std::unique_ptr<recrypt::HttpTransport> transport;
    std::unique_ptr<recrypt::Client> client;
};
mesh::Result<Session> connect(const std::string& url, const Me& me);

/// UpdateMember: the member of `group_id` whose MemberUDF is `udf` (or, when `account` is not
/// empty, whose AccountName is `account`) gets `status`; returns its MemberUDF, not_found if none.
mesh::Result<std::string> set_member_status(recrypt::Client& client, const std::string& group_id, const std::string& udf,
                                            const std::string& account, recrypt::MemberStatus status);

/// Opens envelopes as `me`: keys held here first, else RecryptData at the service of the
/// recipient's group (`override_url` if given, else the envelope's hint, else `fallback`),
/// walking nested groups (my personal group) and conjunctions.
class Reader final : public dare::KeyAgreement {
public:
    Reader(const Me& me, std::string override_url, std::string fallback);
    ~Reader() override;
    mesh::Result<dare::Agreement> agree(const dare::RecipientEntry& recipient) override;
    /// The services asked, for messages.
    [[nodiscard]] std::vector<std::string> services_used() const;

private:
    class Router;
    std::unique_ptr<Router> router_;
    std::unique_ptr<recrypt::MemberAgent> agent_;
    std::string override_;
};

}  // namespace recrypt_cli
