#include <recrypt/client.hpp>

#include <chrono>

namespace recrypt {
using mesh::Errc;
using mesh::fail;
using mesh::Result;

namespace {
Errc errc_for_status(int status) {
    switch (status) {
        case 400: return Errc::malformed;
        case 401: return Errc::auth_failed;
        case 403: return Errc::permission_denied;
        case 404: return Errc::not_found;
        case 409: return Errc::already_exists;
        case 413:
        case 429: return Errc::limit_exceeded;
        default: return status >= 500 ? Errc::io : Errc::internal;
    }
}

std::int64_t system_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

Client::Client(Transport& transport, const dare::SignaturePrivateKey& auth_key, std::string member_udf,
               std::function<std::int64_t()> clock)
    : transport_(transport), auth_key_(auth_key), member_udf_(std::move(member_udf)),
      clock_(clock ? std::move(clock) : std::function<std::int64_t()>(system_seconds)) {}

Result<ResponseView> Client::call(const Request& request) {
    const std::string body = dare::to_json(to_json(request));
    const std::string path = transport_.service_path();
    Headers headers;
    if (!std::holds_alternative<HelloRequest>(request)) {
        const SignedHeaders sig = sign_request(auth_key_, "POST", path, mesh::as_bytes(body), clock_(), mesh::system_random());
        headers = {{"Content-Digest", sig.content_digest}, {"Signature-Input", sig.signature_input}, {"Signature", sig.signature}};
    }
    MESH_ASSIGN_OR_RETURN(const HttpResponse http, transport_.post(path, body, headers));
    return check(http, transaction_name(request));
}

Result<ResponseView> Client::check(const HttpResponse& http, std::string_view expected) {
    auto view = parse_response(http.body);
    if (!view) {
        if (http.status >= 300) {
            return fail(errc_for_status(http.status), "service: HTTP status " + std::to_string(http.status));
        }
        return fail(Errc::malformed, "service: bad response: " + view.error().message);
    }
    if (view->transaction != expected) {
        return fail(Errc::malformed, "service: answered " + view->transaction + " to " + std::string(expected));
    }
    if (view->status.code >= 300) {
        return fail(errc_for_status(view->status.code),
                    "service: " + view->status.description.substr(0, 200) + " (status " + std::to_string(view->status.code) + ")");
    }
    return view;
}

Result<void> Client::hello() {
    MESH_TRY(call(HelloRequest{}));
    return mesh::ok();
}

Result<void> Client::create_group(RecryptionGroup group) {
    MESH_TRY(call(CreateGroupRequest{std::move(group)}));
    return mesh::ok();
}

Result<void> Client::update_group(RecryptionGroup group) {
    MESH_TRY(call(UpdateGroupRequest{std::move(group)}));
    return mesh::ok();
}

Result<RecryptionGroup> Client::get_group(std::string_view group_id) {
    MESH_ASSIGN_OR_RETURN(const ResponseView v, call(GetGroupRequest{std::string(group_id)}));
    MESH_ASSIGN_OR_RETURN(GetGroupResponse r, get_group_response(v));
    if (!r.group || r.group->group_id != group_id) return fail(Errc::malformed, "service: GetGroup answered for another group");
    return std::move(*r.group);
}

Result<void> Client::add_member(std::string_view group_id, std::vector<MemberEntry> members) {
    MESH_TRY(call(AddMemberRequest{std::string(group_id), std::move(members)}));
    return mesh::ok();
}

Result<void> Client::update_member(std::string_view group_id, std::vector<MemberEntry> members) {
    MESH_TRY(call(UpdateMemberRequest{std::string(group_id), std::move(members)}));
    return mesh::ok();
}

Result<KeyRecord> Client::get_key(std::string_view group_id) {
    MESH_ASSIGN_OR_RETURN(const ResponseView v, call(GetKeyRequest{std::string(group_id)}));
    MESH_ASSIGN_OR_RETURN(const GetKeyResponse r, get_key_response(v));
    return verify_key_record(*r.signed_key, group_id);
}

Result<KeyRecord> Client::fetch_key(std::string_view group_id) {
    if (group_id.empty() || group_id.find_first_of("/?#% ") != std::string_view::npos) {
        return fail(Errc::invalid_argument, "group id '" + std::string(group_id.substr(0, 64)) + "': not a GroupID");
    }
    const std::string path = transport_.service_path() + "/groups/" + std::string(group_id) + "/key";
    MESH_ASSIGN_OR_RETURN(const HttpResponse http, transport_.get(path, {}));
    MESH_ASSIGN_OR_RETURN(const ResponseView v, check(http, "GetKey"));
    MESH_ASSIGN_OR_RETURN(const GetKeyResponse r, get_key_response(v));
    return verify_key_record(*r.signed_key, group_id);
}

Result<RecryptDataResponse> Client::recrypt_data(const RecryptDataRequest& request) {
    MESH_ASSIGN_OR_RETURN(const ResponseView v, call(request));
    return recrypt_data_response(v);
}

Result<RecryptReply> Client::recrypt(std::string_view group_kid, std::string_view member_kid, const Point& t) {
    MESH_ASSIGN_OR_RETURN(RecryptDataResponse r,
                          recrypt_data(RecryptDataRequest{member_udf_, std::string(member_kid), std::string(group_kid), to_array(t)}));
    if (r.encryption_key->kid() != group_kid) {
        return fail(Errc::malformed, "service: RecryptData answered for another group key");
    }
    return RecryptReply{std::move(*r.partial), std::move(r.decryption_keys), *r.encryption_key};
}

Result<dare::Decoded> Client::open(const dare::Json& envelope, const std::vector<const dare::PrivateKey*>& keys,
                                   const std::vector<std::string>& memberships) {
    MemberAgent agent(*this);
    for (const auto* k : keys) agent.add_private_key(*k);
    for (const auto& m : memberships) agent.add_membership(m);
    return dare::decode_value(envelope, dare::OpenOptions{&agent, {}, false});
}

}  // namespace recrypt
